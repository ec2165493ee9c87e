import "@dale/backend"; // registers tfjs gradients (nonNegativeScoreMatching differentiates psi)
import * as tf from "@tensorflow/tfjs-core";
import { gbm, normalArray, uniformArray, vpSDE } from "@dale/sde";
import { gaussianMixtureScore, lognormalMixtureScore, lognormalScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import { dsmLoss, mdsmLoss, mdsmTarget, mesmLoss, nonNegativeScoreMatching, type BatchScoreFn } from "./index";

const PAPER_MIXTURE = { weights: [0.5, 0.5], means: [[0.1], [0.6]], stds: [[0.05], [0.08]] };

/** n draws of log X_0 from a 1-D two-component mixture, as a [n, 1] tensor of X_0. */
function sampleMixture(n: number, seed: number, mix = PAPER_MIXTURE): tf.Tensor {
  const z = normalArray(n, seed, 0);
  const u = uniformArray(n, seed, 1);
  const y = Float32Array.from(z, (zi, i) => {
    const k = (u[i] as number) < (mix.weights[0] as number) ? 0 : 1;
    return (mix.means[k]?.[0] as number) + (mix.stds[k]?.[0] as number) * zi;
  });
  return tf.exp(tf.tensor(y, [n, 1]));
}

const meanAndSE = (v: Float32Array | number[]) => {
  const n = v.length;
  let m = 0;
  for (const x of v) m += x;
  m /= n;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return { mean: m, se: Math.sqrt(s / (n - 1) / n) };
};

describe("M-DSM", () => {
  it("has the closed-form minimum v s0^2 / (s0^2 + v) per element for log-normal data and the exact score", () => {
    const sde = gbm();
    const s0 = 0.3;
    const n = 200_000;
    const x0 = tf.exp(tf.add(0.2, tf.mul(s0, tf.tensor(normalArray(n, 5), [n, 1]))));
    const exact = lognormalScore(sde, { mean: [0.2], std: [s0] });
    const t = 0.4;
    const times = tf.fill([n], t);
    const perSample = mdsmLoss(exact.stein, x0, { sde, t: times, seed: 9, reduction: "none" });
    const v = 0.64 * t;
    const { mean, se } = meanAndSE(perSample.dataSync() as Float32Array);
    expect(Math.abs(mean - (v * s0 * s0) / (s0 * s0 + v))).toBeLessThan(4 * se);
    tf.dispose([x0, times, perSample]);
  });

  it("its target's conditional mean given x_t is the marginal Hyvarinen score (binned, docs/method.md, section 6)", () => {
    const sde = gbm();
    const n = 400_000;
    const t = 0.3;
    const x0 = sampleMixture(n, 1);
    const z = tf.tensor(normalArray(n, 2), [n, 1]);
    const times = tf.fill([n], t);
    const xt = sde.perturb(x0, z, times);
    const target = mdsmTarget(sde, x0, xt, times).dataSync();
    const h = lognormalMixtureScore(sde, PAPER_MIXTURE).hyvarinen(xt, t).dataSync();
    const y = tf.log(xt).dataSync();
    // 12 bins of log x_t between the 5% and 95% points of its law (mean 0.35 + m(t), std about 0.41).
    const bins = Array.from({ length: 12 }, () => ({ target: [] as number[], h: [] as number[] }));
    for (let i = 0; i < n; i++) {
      const b = Math.floor(((y[i] as number) + 0.33) / 0.11);
      if (b >= 0 && b < 12) {
        bins[b]?.target.push(target[i] as number);
        bins[b]?.h.push(h[i] as number);
      }
    }
    for (const bin of bins) {
      const diff = bin.target.map((v, i) => v - (bin.h[i] as number));
      const { mean, se } = meanAndSE(diff);
      expect(se).toBeLessThan(0.02);
      expect(Math.abs(mean)).toBeLessThan(4 * se + 0.005);
    }
    tf.dispose([x0, z, times, xt]);
  });

  it("M-DSM minus M-ESM does not depend on the model", () => {
    const sde = gbm();
    const exact = lognormalMixtureScore(sde, PAPER_MIXTURE);
    const n = 200_000;
    const x0 = sampleMixture(n, 3);
    const modelA: BatchScoreFn = (x, t) => tf.mul(0.7, exact.stein(x, t));
    const modelB: BatchScoreFn = Object.assign((x: tf.Tensor) => tf.sub(-0.5, tf.mul(0.3, tf.log(x))), {
      kind: "hyvarinen" as const,
    });
    const run = (model: BatchScoreFn) => {
      const opts = { sde, seed: 11, reduction: "none" as const };
      const dsm = mdsmLoss(model, x0, opts);
      const esm = mesmLoss(model, x0, { ...opts, exact });
      const out = { dsm: dsm.dataSync() as Float32Array, gap: tf.sub(dsm, esm).dataSync() as Float32Array };
      tf.dispose([dsm, esm]);
      return out;
    };
    const a = run(modelA);
    const b = run(modelB);
    // The models' losses differ by far more than the error bar below...
    const lossGap = meanAndSE(a.dsm.map((v, i) => v - (b.dsm[i] as number)));
    expect(Math.abs(lossGap.mean)).toBeGreaterThan(20 * lossGap.se);
    // ...yet M-DSM - M-ESM is the same constant for both, and it is positive (the conditional target's variance).
    const gapDiff = meanAndSE(a.gap.map((v, i) => v - (b.gap[i] as number)));
    expect(Math.abs(gapDiff.mean)).toBeLessThan(4 * gapDiff.se);
    expect(meanAndSE(a.gap).mean).toBeGreaterThan(0.01);
    x0.dispose();
  });

  it("rejects non-positive data, missing seeds and mis-shaped models, and leaks nothing", () => {
    const sde = gbm();
    const bad = tf.tensor([[1], [-0.5]]);
    const ok = tf.ones([2, 1]);
    const score: BatchScoreFn = (x) => tf.neg(tf.reciprocal(x));
    expect(() => mdsmLoss(score, bad, { sde, seed: 0 })).toThrow(/mdsmLoss: x0 must be strictly positive/);
    expect(() => mdsmLoss(score, ok, { sde })).toThrow(/give a seed/);
    expect(() => mdsmLoss((x) => tf.sum(x), ok, { sde, seed: 0 })).toThrow(/must return a float32 tensor of x's shape \[2,1\]/);
    expect(() => mdsmLoss(score, ok, { sde, seed: 0, t: tf.ones([3]) })).toThrow(/t must have shape \[2\]/);
    const before = tf.memory().numTensors;
    mdsmLoss(score, ok, { sde, seed: 1 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([bad, ok]);
  });
});

describe("input checks: times in (0, T], enumerated options, no leaks on the error path", () => {
  const sde = gbm();
  const score: BatchScoreFn = (x) => tf.neg(tf.reciprocal(x));
  const exact = lognormalScore(sde, { mean: [0], std: [0.5] });
  /** Runs a throwing call and checks that it created no tensor it did not dispose. */
  const throwsWithoutLeak = (call: () => unknown, message: RegExp) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  };

  it("the losses refuse t <= 0, t > T and NaN inside a time tensor (they divide by v(t) there)", () => {
    const x0 = tf.ones([3, 1]);
    const noise = tf.zeros([3, 1]);
    const vp = vpSDE();
    const additive = (x: tf.Tensor) => tf.neg(x);
    const cases: [number[], string][] = [
      [[0.5, 0, 0.2], "0 at index 1"],
      [[0.5, 0.2, -0.25], "-0.25 at index 2"],
      [[Number.NaN, 0.5, 0.2], "NaN at index 0"],
      [[0.5, 1.5, 0.2], "1.5 at index 1"],
    ];
    for (const [values, got] of cases) {
      const t = tf.tensor1d(values);
      const tail = `t must be in \\(0, T = 1\\], got ${got.replace(".", "\\.")}\\.$`;
      // With a seed, the noise would be drawn: the times are checked before anything is created.
      throwsWithoutLeak(() => mdsmLoss(score, x0, { sde, t, seed: 1 }), new RegExp(`^mdsmLoss: ${tail}`));
      throwsWithoutLeak(() => mesmLoss(score, x0, { sde, t, noise, exact }), new RegExp(`^mesmLoss: ${tail}`));
      throwsWithoutLeak(() => dsmLoss(additive, x0, { sde: vp, t, seed: 1 }), new RegExp(`^dsmLoss: ${tail}`));
      throwsWithoutLeak(() => mdsmTarget(sde, x0, x0, t), new RegExp(`^mdsmTarget: ${tail}`));
      t.dispose();
    }
    throwsWithoutLeak(() => mdsmTarget(sde, x0, x0, 0), /^mdsmTarget: t must be in \(0, T = 1\], got 0\.$/);
    const target = mdsmTarget(sde, x0, x0, 0.5); // a number works too: x_t = x_0 gives -1
    expect(Array.from(target.dataSync())).toEqual([-1, -1, -1]);
    tf.dispose([x0, noise, target]);
  });

  it("the losses take times up to T at float32 precision (a tensor filled with T = 0.3)", () => {
    const short = gbm({ T: 0.3 });
    const x0 = tf.ones([2, 1]);
    const t = tf.fill([2], 0.3);
    const loss = mdsmLoss(score, x0, { sde: short, t, seed: 2 });
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    tf.dispose([x0, t, loss]);
  });

  it("a drawn t does not leak when the given noise is refused", () => {
    const x0 = tf.ones([2, 1]);
    const noise = tf.zeros([3, 1]);
    throwsWithoutLeak(() => mdsmLoss(score, x0, { sde, seed: 0, noise }), /^mdsmLoss: noise must have x0's shape \[2,1\], got \[3,1\]\.$/);
    throwsWithoutLeak(() => dsmLoss((x) => x, x0, { sde: vpSDE(), seed: 0, noise }), /^dsmLoss: noise must have x0's shape/);
    tf.dispose([x0, noise]);
  });

  it("refuses data with +Infinity (it used to pass the positivity check)", () => {
    const x0 = tf.tensor([[1], [Infinity]]);
    throwsWithoutLeak(() => mdsmLoss(score, x0, { sde, seed: 0 }), /^mdsmLoss: x0 must be strictly positive and finite.*1 of 2 values are not \(x0\[1, 0\] = Infinity\)/);
    throwsWithoutLeak(() => nonNegativeScoreMatching((x) => x, x0), /^nonNegativeScoreMatching: x must be strictly positive and finite/);
    x0.dispose();
  });

  it("rejects an unknown reduction, estimator or model kind instead of a silent default", () => {
    const x0 = tf.ones([2, 1]);
    const sum = "sum" as unknown as "mean";
    const reduction = /reduction must be one of "mean", "none", got "sum"\.$/;
    throwsWithoutLeak(() => mdsmLoss(score, x0, { sde, seed: 0, reduction: sum }), new RegExp(`^mdsmLoss: ${reduction.source}`));
    throwsWithoutLeak(() => mesmLoss(score, x0, { sde, seed: 0, exact, reduction: sum }), new RegExp(`^mesmLoss: ${reduction.source}`));
    throwsWithoutLeak(() => dsmLoss((x) => x, x0, { sde: vpSDE(), seed: 0, reduction: sum }), new RegExp(`^dsmLoss: ${reduction.source}`));
    throwsWithoutLeak(() => nonNegativeScoreMatching((x) => x, x0, { reduction: sum }), new RegExp(`^nonNegativeScoreMatching: ${reduction.source}`));
    throwsWithoutLeak(
      () => nonNegativeScoreMatching((x) => x, x0, { estimator: "sliced" as unknown as "exact" }),
      /^nonNegativeScoreMatching: estimator must be one of "exact", "hutchinson", got "sliced"\.$/,
    );
    // A log-space score passed as a loss model used to be taken for a Stein score.
    const logModel = Object.assign((x: tf.Tensor) => tf.neg(x), { kind: "log" }) as unknown as BatchScoreFn;
    throwsWithoutLeak(() => mdsmLoss(logModel, x0, { sde, seed: 0 }), /^mdsmLoss: model\.kind must be one of "stein", "hyvarinen", got "log"\.$/);
    const hyv = Object.assign((x: tf.Tensor) => tf.neg(x), { kind: "hyvarinen" as const });
    throwsWithoutLeak(() => dsmLoss(hyv, x0, { sde: vpSDE(), seed: 0 }), /^dsmLoss: model\.kind must be one of "stein", got "hyvarinen"\.$/);
    x0.dispose();
  });

  it("rejects a weighting that is negative or NaN, and a missing exact density", () => {
    const x0 = tf.ones([2, 1]);
    throwsWithoutLeak(() => mdsmLoss(score, x0, { sde, seed: 0, weighting: () => -1 }), /^mdsmLoss: weighting must return a finite number >= 0, got -1 at t = /);
    throwsWithoutLeak(() => dsmLoss((x) => x, x0, { sde: vpSDE(), seed: 0, weighting: () => Number.NaN }), /^dsmLoss: weighting must return a finite number >= 0, got NaN/);
    const noExact = { sde, seed: 0 } as unknown as Parameters<typeof mesmLoss>[2];
    throwsWithoutLeak(() => mesmLoss(score, x0, noExact), /^mesmLoss: options\.exact must be an ExactDensity/);
    // An additive exact density is fine for dsmLoss's model.
    const g = gaussianMixtureScore(vpSDE(), { weights: [1], means: [[0]], stds: [[1]] });
    const loss = dsmLoss((x, t) => g.stein(x, t), x0, { sde: vpSDE(), seed: 0 });
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    tf.dispose([x0, loss]);
  });
});

describe("non-negative score matching (Hyvarinen 2007)", () => {
  // psi_i(x) = (a + b log x_i + c log x_j) / x_i couples the two coordinates, so the Jacobian has off-diagonal terms.
  const model = (a: number, b: number, c: number) => (x: tf.Tensor) =>
    tf.tidy(() => {
      const y = tf.log(x);
      const other = tf.reverse(y, 1);
      return tf.div(tf.add(a, tf.add(tf.mul(b, y), tf.mul(c, other))), x);
    });
  const n = 100_000;
  const sampleData = () => {
    const z = normalArray(2 * n, 21);
    return tf.exp(tf.add(tf.tensor([0.1, 0.4]), tf.mul(tf.tensor([0.3, 0.2]), tf.tensor(z, [n, 2]))));
  };
  const truth = lognormalScore(gbm(), { mean: [0.1, 0.4], std: [0.3, 0.2] });

  it("equals the explicit loss E||x grad log p - x psi||^2 up to a model-independent constant", () => {
    const x = sampleData();
    const hTrue = truth.hyvarinen(x, 0); // at t = 0 the GBM density is the data density
    const explicit = (psi: (x: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => tf.sum(tf.square(tf.sub(hTrue, tf.mul(x, psi(x)))), 1)).dataSync() as Float32Array;
    const implicit = (psi: (x: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => nonNegativeScoreMatching(psi, x, { reduction: "none" })).dataSync() as Float32Array;
    const p1 = model(-1, -0.5, 0.2);
    const p2 = model(0.3, -2, -0.4);
    const e1 = explicit(p1);
    const e2 = explicit(p2);
    const i1 = implicit(p1);
    const i2 = implicit(p2);
    const explicitGap = meanAndSE(e1.map((v, i) => v - (e2[i] as number)));
    expect(Math.abs(explicitGap.mean)).toBeGreaterThan(20 * explicitGap.se);
    const dd = meanAndSE(e1.map((v, i) => v - (e2[i] as number) - ((i1[i] as number) - (i2[i] as number))));
    expect(Math.abs(dd.mean)).toBeLessThan(4 * dd.se);
    tf.dispose([x, hTrue]);
  });

  it("the Hutchinson estimate is unbiased for the exact one", () => {
    const x = sampleData();
    const psi = model(-1, -0.5, 0.7);
    const exact = nonNegativeScoreMatching(psi, x, { estimator: "exact", reduction: "none" });
    const hutch = nonNegativeScoreMatching(psi, x, { estimator: "hutchinson", seed: 4, reduction: "none" });
    const diff = meanAndSE(Array.from(tf.sub(hutch, exact).dataSync()));
    expect(diff.se).toBeGreaterThan(0); // the estimate is noisy here: off-diagonal terms exist
    expect(Math.abs(diff.mean)).toBeLessThan(4 * diff.se);
    tf.dispose([x, exact, hutch]);
  });
});

describe("additive DSM", () => {
  it("VP with Gaussian data and the exact score: E||b s + Z||^2 = 1 - b^2 / (a^2 s0^2 + b^2)", () => {
    const sde = vpSDE();
    const n = 200_000;
    const s0 = 0.5;
    const x0 = tf.mul(s0, tf.tensor(normalArray(n, 8), [n, 1]));
    const t = 0.2;
    const B = 0.1 * t + (19.9 * t * t) / 2;
    const a = Math.exp(-B / 2);
    const b2 = -Math.expm1(-B);
    const varT = a * a * s0 * s0 + b2;
    const exact = (x: tf.Tensor) => tf.div(tf.neg(x), varT);
    const times = tf.fill([n], t);
    const per = dsmLoss(exact, x0, { sde, t: times, seed: 3, reduction: "none" });
    const { mean, se } = meanAndSE(per.dataSync() as Float32Array);
    expect(Math.abs(mean - (1 - b2 / varT))).toBeLessThan(4 * se);
    tf.dispose([x0, times, per]);
  });
});
