import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { reference, referenceSet, relErr } from "./__fixtures__/reference";
import { inceptionScore } from "./index";

describe("inceptionScore against Salimans et al.'s inception_score.py (numpy)", () => {
  it.each(reference.is.map((c) => [`${c.input} of ${c.set}, ${c.splits} splits`, c] as const))("%s", (_, c) => {
    const r = inceptionScore(referenceSet(c.set), { input: c.input, splits: c.splits });
    r.values.forEach((v, s) => expect(relErr(v, c.values[s]!)).toBeLessThan(1e-12));
    expect(relErr(r.mean, c.mean)).toBeLessThan(1e-12);
    expect(relErr(r.std, c.std)).toBeLessThan(1e-10);
  });

  it("closed forms: uniform predictions score 1, confident predictions spread evenly over C classes score C", () => {
    const uniform = { data: new Float64Array(40 * 5).fill(0.2), rows: 40 };
    const u = inceptionScore(uniform, { input: "probabilities", splits: 4 });
    expect(u.mean).toBeCloseTo(1, 14);
    expect(u.std).toBeLessThan(1e-15);
    const onehot = new Float64Array(40 * 5);
    for (let i = 0; i < 40; i++) onehot[i * 5 + (i % 5)] = 1; // each split of 10 rows holds every class twice
    const c = inceptionScore({ data: onehot, rows: 40 }, { input: "probabilities", splits: 4 });
    expect(c.mean).toBeCloseTo(5, 13);
    // Logits: +inf-like confidence gives the same as one-hot probabilities.
    const logits = onehot.map((v) => (v === 1 ? 50 : -50));
    expect(inceptionScore({ data: logits, rows: 40 }, { input: "logits", splits: 4 }).mean).toBeCloseTo(5, 10);
  });

  it("tolerances are meaningful: other splits, or one logit moved by 1e-2, change the score", () => {
    const c = reference.is.find((r) => r.input === "logits" && r.splits === 10)!;
    const l = referenceSet(c.set);
    const seven = inceptionScore(l, { input: "logits", splits: 7 });
    expect(relErr(seven.mean, c.mean)).toBeGreaterThan(1e-3);
    // A 1e-2 change of one logit in the first split moves that split's score by far more than the 1e-12 tolerance.
    const nudged = Float32Array.from(l.data);
    nudged[0] = (nudged[0] as number) + 1e-2;
    const r = inceptionScore({ data: nudged, rows: l.rows }, { input: "logits", splits: 10 });
    expect(relErr(r.values[0]!, c.values[0]!)).toBeGreaterThan(1e-8);
  });

  it("reads tensors and leaks none", () => {
    const l = referenceSet("L");
    const t = tf.tensor2d(l.data, [l.rows, l.dim]);
    const before = tf.memory().numTensors;
    const r = inceptionScore(t, { input: "logits" });
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    expect(r.values.length).toBe(10);
    expect(r.mean).toBe(inceptionScore(l, { input: "logits" }).mean);
  });

  it("validates its inputs", () => {
    const p = { data: Float32Array.from([0.5, 0.5, 0.2, 0.2]), rows: 2 };
    expect(() => inceptionScore(p, { input: "probabilities", splits: 1 })).toThrow(
      /inceptionScore: row 1 of predictions sums to 0.4000000059604645, not 1/,
    );
    const bad = { data: Float32Array.from([1.5, -0.5]), rows: 1 };
    expect(() => inceptionScore(bad, { input: "probabilities", splits: 1 })).toThrow(
      /predictions\[0\]\[0\] = 1.5 is not a probability/,
    );
    expect(() => inceptionScore(p, { input: "logits", splits: 3 })).toThrow(/splits = 3 is more than the 2 rows/);
    expect(() => inceptionScore(p, {} as never)).toThrow(/options.input must be "logits" or "probabilities"/);
  });
});
