import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { reference, referenceSet, relErr } from "./__fixtures__/reference";
import { kernelInceptionDistance } from "./index";
import { sampleWithoutReplacement, xoshiro128ss } from "./random";

describe("subset generator (shared with tooling/metrics-reference/make_reference.py)", () => {
  it.each(reference.prng.map((p) => [p.seed, p] as const))("seed %s gives the Python outputs", (_, p) => {
    const next = xoshiro128ss(p.seed, "test");
    expect(p.outputs.map(() => next())).toEqual(p.outputs);
  });

  it("draws the same subsets as Python, and the identity when m = n", () => {
    const { seed, n, m, draws } = reference.sample;
    const next = xoshiro128ss(seed, "test");
    const scratch = new Int32Array(n);
    expect(draws.map(() => Array.from(sampleWithoutReplacement(next, n, m, scratch)))).toEqual(draws);
    expect(Array.from(sampleWithoutReplacement(next, 4, 4, new Int32Array(4)))).toEqual([0, 1, 2, 3]);
  });
});

describe("kernelInceptionDistance against torch-fidelity's polynomial_mmd", () => {
  const cases = reference.kid.filter((c) => c.degree === 3);
  it.each(cases.map((c) => [`${c.a} vs ${c.b}, ${c.subsets} x ${c.subsetSize}, seed ${c.seed}`, c] as const))(
    "%s",
    (_, c) => {
      const r = kernelInceptionDistance(referenceSet(c.a), referenceSet(c.b), {
        subsets: c.subsets,
        subsetSize: c.subsetSize,
        seed: c.seed,
      });
      expect(r.subsetSize).toBe(c.m);
      expect(r.values.length).toBe(c.subsets);
      r.values.forEach((v, s) => expect(relErr(v, c.values[s]!)).toBeLessThan(1e-9));
      expect(relErr(r.mean, c.mean)).toBeLessThan(1e-9);
      if (c.std > 0) expect(relErr(r.std, c.std)).toBeLessThan(1e-8);
      else expect(r.std).toBeLessThan(1e-15);
    },
  );

  it("tolerances are meaningful: degree 2 is not degree 3, and another seed draws other subsets", () => {
    const c = reference.kid.find((k) => k.degree === 3 && k.subsetSize === 100)!;
    const a = referenceSet(c.a);
    const b = referenceSet(c.b);
    const opts = { subsets: c.subsets, subsetSize: c.subsetSize, seed: c.seed };
    const quadratic = kernelInceptionDistance(a, b, { ...opts, degree: 2 });
    expect(relErr(quadratic.mean, c.mean)).toBeGreaterThan(0.1);
    // ... and degree 2 matches Python's degree-2 reference, so the kernel really is (x.y / d + 1)^degree.
    const c2 = reference.kid.find((k) => k.degree === 2)!;
    expect(relErr(quadratic.mean, c2.mean)).toBeLessThan(1e-9);
    const reseeded = kernelInceptionDistance(a, b, { ...opts, seed: c.seed + 1 });
    expect(relErr(reseeded.values[0]!, c.values[0]!)).toBeGreaterThan(1e-3);
  });

  it("is deterministic, reads tensors like host data, and leaks no tensor", () => {
    const a = referenceSet("A");
    const b = referenceSet("B");
    const ta = tf.tensor2d(a.data, [a.rows, a.dim]);
    const tb = tf.tensor2d(b.data, [b.rows, b.dim]);
    const before = tf.memory().numTensors;
    const fromTensors = kernelInceptionDistance(ta, tb, { subsets: 3, subsetSize: 50, seed: 11 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ta, tb]);
    const fromHost = kernelInceptionDistance(a, b, { subsets: 3, subsetSize: 50, seed: 11 });
    expect(Array.from(fromTensors.values)).toEqual(Array.from(fromHost.values));
  });

  it("validates its inputs", () => {
    const a = referenceSet("A");
    expect(() => kernelInceptionDistance(a, { data: new Float32Array(31 * 4), rows: 4 })).toThrow(
      /kernelInceptionDistance: a has rows of 32 features but b has 31/,
    );
    expect(() => kernelInceptionDistance(a, { data: new Float32Array(32), rows: 1 })).toThrow(
      /needs subsets of at least 2 rows; got a with 300 and b with 1 rows/,
    );
    expect(() => kernelInceptionDistance(a, a, { subsets: 0 })).toThrow(/subsets must be a positive integer, got 0/);
    expect(() => kernelInceptionDistance(a, a, { seed: 0.5 })).toThrow(/seed must be a safe integer/);
    expect(() => kernelInceptionDistance(a, a, { gamma: -1 })).toThrow(/gamma must be a positive number/);
  });
});
