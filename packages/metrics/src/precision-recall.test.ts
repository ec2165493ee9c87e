import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { reference, referenceSet } from "./__fixtures__/reference";
import { precisionRecall } from "./index";

describe("precisionRecall against Kynkaanniemi et al.'s k-NN manifolds (numpy/scipy)", () => {
  it.each(reference.pr.map((c) => [`real ${c.real}, fake ${c.fake}, k = ${c.k}`, c] as const))("%s", (_, c) => {
    const r = precisionRecall(referenceSet(c.real), referenceSet(c.fake), { k: c.k });
    // Fractions of a few hundred rows: the counts must agree exactly (Python checked that no probe lies within
    // 1e-9 of a ball's boundary, so rounding cannot flip a decision).
    expect(r.precision).toBe(c.precision);
    expect(r.recall).toBe(c.recall);
    expect(r.k).toBe(c.k);
  });

  it("counts balls by hand on the line: real {0, 1, 3, 7}, fake {0.5, 2.9, 10}, k = 1", () => {
    // Real radii (nearest other point): 1, 1, 2, 4 -> balls [-1, 1], [0, 2], [1, 5], [3, 11]: every fake is inside.
    // Fake radii: 0.5 -> 2.4, 2.9 -> 2.4, 10 -> 7.1: balls [-1.9, 2.9], [0.5, 5.3], [2.9, 17.1]: all reals inside.
    const real = { data: Float64Array.from([0, 1, 3, 7]), rows: 4 };
    const fake = { data: Float64Array.from([0.5, 2.9, 10]), rows: 3 };
    expect(precisionRecall(real, fake, { k: 1 })).toEqual({ precision: 1, recall: 1, k: 1 });
    // A far fake: 30 is outside every real ball; the fake balls (2.4 around 0.5, 27.1 around 30) hold every real.
    const far = { data: Float64Array.from([0.5, 2.9, 30]), rows: 3 };
    expect(precisionRecall(real, far, { k: 1 })).toEqual({ precision: 2 / 3, recall: 1, k: 1 });
    // A ball includes its boundary (<=): real {0, 2}, fake {4, 6} with k = 1 give radius 2 each; 2 reaches 4.
    const r2 = { data: Float64Array.from([0, 2]), rows: 2 };
    const f2 = { data: Float64Array.from([4, 6]), rows: 2 };
    expect(precisionRecall(r2, f2, { k: 1 })).toEqual({ precision: 0.5, recall: 0.5, k: 1 });
  });

  it("reads tensors like host data and leaks no tensor", () => {
    const a = referenceSet("A");
    const b = referenceSet("B");
    const ta = tf.tensor2d(a.data, [a.rows, a.dim]);
    const before = tf.memory().numTensors;
    const r = precisionRecall(ta, b);
    expect(tf.memory().numTensors).toBe(before);
    ta.dispose();
    expect(r).toEqual(precisionRecall(a, b));
    expect(r.k).toBe(3);
  });

  it("validates its inputs", () => {
    const a = referenceSet("A");
    expect(() => precisionRecall(a, { data: new Float32Array(3 * 32), rows: 3 })).toThrow(
      /precisionRecall: fake needs more than k = 3 rows for k-NN radii, got 3/,
    );
    expect(() => precisionRecall({ data: new Float32Array(10), rows: 2 }, a)).toThrow(
      /real has rows of 5 features but fake has 32/,
    );
    expect(() => precisionRecall(a, a, { k: 0 })).toThrow(/k must be a positive integer, got 0/);
    expect(() => precisionRecall(a, { data: Float32Array.from([Infinity, 1]), rows: 1 })).toThrow(
      /fake has a non-finite value \(Infinity\) at row 0, column 0/,
    );
  });
});
