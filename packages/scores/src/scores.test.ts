import * as tf from "@tensorflow/tfjs-core";
import { gbm, vpSDE } from "@dale/sde";
import { describe, expect, it } from "vitest";
import {
  gaussianMixtureScore,
  hyvarinen,
  hyvarinenFromLogScore,
  logScore,
  logScoreFromHyvarinen,
  lognormalMixtureScore,
  lognormalScore,
  toHyvarinen,
  toStein,
  type SteinScoreFn,
} from "./index";

const PAPER_MIXTURE = { weights: [0.5, 0.5], means: [[0.1], [0.6]], stds: [[0.05], [0.08]] };
const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe("exact scores", () => {
  it("log-normal: h(x) = -1 - (log x - m_t) / v_t (docs/method.md, section 2)", () => {
    const sde = gbm({ mu: 0.5, sigma: 0.6 });
    const p = lognormalScore(sde, { mean: [0.2], std: [0.3] });
    const x = tf.tensor([[0.5], [1], [3]]);
    const t = 0.4;
    const mt = 0.2 + (0.5 - 0.18) * t;
    const vt = 0.09 + 0.36 * t;
    const h = values(p.hyvarinen(x, t));
    [0.5, 1, 3].forEach((xi, i) => expect(h[i]).toBeCloseTo(-1 - (Math.log(xi) - mt) / vt, 5));
    const s = values(p.stein(x, t));
    [0.5, 1, 3].forEach((xi, i) => expect(s[i]).toBeCloseTo((-1 - (Math.log(xi) - mt) / vt) / xi, 5));
    x.dispose();
  });

  it("mixture of log-normals at t = 0.5 matches scipy (density and central-difference score)", () => {
    const p = lognormalMixtureScore(gbm(), PAPER_MIXTURE);
    const x = tf.tensor([[0.8], [1.2], [1.6], [2.5]]);
    // tooling: scipy.stats.norm mixture in log space, minus log x; score by central differences (eps 1e-6).
    const wantLogp = [-0.6386356710772852, -0.6687086145133923, -0.9411303536211517, -1.7730139726720127];
    const wantH = [0.4469472246970696, -0.5880509121647393, -1.3050128715441645, -2.4290080657962676];
    values(p.logProb(x, 0.5)).forEach((v, i) => expect(v).toBeCloseTo(wantLogp[i] as number, 4));
    values(p.hyvarinen(x, 0.5)).forEach((v, i) => expect(v).toBeCloseTo(wantH[i] as number, 4));
    // A per-sample time tensor gives the same numbers.
    const t = tf.fill([4], 0.5);
    values(p.hyvarinen(x, t)).forEach((v, i) => expect(v).toBeCloseTo(wantH[i] as number, 4));
    tf.dispose([x, t]);
  });

  it("Gaussian mixture under the VP-SDE at t = 0.3, two dimensions, matches scipy", () => {
    const p = gaussianMixtureScore(vpSDE(), {
      weights: [0.3, 0.7],
      means: [
        [-1, 2],
        [1.5, 0],
      ],
      stds: [
        [0.5, 1],
        [0.2, 0.3],
      ],
    });
    const z = tf.tensor([[0.3, -0.4]]);
    expect(values(p.logProb(z, 0.3))[0]).toBeCloseTo(-2.1243839725907567, 4);
    const s = values(p.stein(z, 0.3));
    expect(s[0]).toBeCloseTo(0.88627435523847, 4);
    expect(s[1]).toBeCloseTo(0.6929033533609186, 4);
    z.dispose();
  });

  it("validates the mixture and the data shape", () => {
    expect(() => lognormalMixtureScore(gbm(), { weights: [0.5, 0.4], means: [[0], [1]], stds: [[1], [1]] })).toThrow(
      /weights must be positive and sum to 1/,
    );
    expect(() => lognormalMixtureScore(gbm(), { weights: [1], means: [[0]], stds: [[0]] })).toThrow(/stds must be positive/);
    const p = lognormalMixtureScore(gbm(), PAPER_MIXTURE);
    const x = tf.ones([2, 3]);
    expect(() => p.stein(x, 0.5)).toThrow(/1 elements per sample, got shape \[2,3\]/);
    x.dispose();
  });

  it("takes t in [0, T], as a number or inside a [batch] time tensor, naming the density and the method, and leaks nothing", () => {
    const gbmSde = gbm({ T: 2 });
    const lognormal = lognormalMixtureScore(gbmSde, PAPER_MIXTURE);
    const gaussian = gaussianMixtureScore(vpSDE(), PAPER_MIXTURE);
    const x = tf.ones([3, 1]);
    const zero = tf.zeros([3]);
    const bad = tf.tensor1d([0.5, Number.NaN, 0.1]);
    const late = tf.tensor1d([0.5, 0.1, 1.5]);
    const before = tf.memory().numTensors;
    // t = 0 is the data density itself, finite since every component has a positive std.
    for (const v of [lognormal.stein(x, 0), lognormal.logProb(x, zero), gaussian.hyvarinen(x, 0)]) {
      expect(values(v).every(Number.isFinite)).toBe(true);
      v.dispose();
    }
    expect(() => lognormal.stein(x, 2.5)).toThrow(/^lognormalMixtureScore\.stein: t must be in \[0, T = 2\], got 2\.5\.$/);
    expect(() => lognormal.hyvarinen(x, -0.1)).toThrow(/^lognormalMixtureScore\.hyvarinen: t must be in \[0, T = 2\], got -0\.1\.$/);
    expect(() => lognormal.logProb(x, bad)).toThrow(/^lognormalMixtureScore\.logProb: t must be in \[0, T = 2\], got NaN at index 1\.$/);
    expect(() => lognormalScore(gbmSde, { mean: [0], std: [1] }).stein(x, bad)).toThrow(/^lognormalScore\.stein: .*got NaN at index 1/);
    expect(() => gaussian.stein(x, late)).toThrow(/^gaussianMixtureScore\.stein: t must be in \[0, T = 1\], got 1\.5 at index 2\.$/);
    expect(() => gaussian.logProb(x, Infinity)).toThrow(/^gaussianMixtureScore\.logProb: t must be in \[0, T = 1\], got Infinity\.$/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, zero, bad, late]);
  });
});

describe("conversions", () => {
  it("log-space score = Hyvarinen score + 1, and toStein / toHyvarinen invert each other", () => {
    const p = lognormalScore(gbm(), { mean: [0], std: [0.5] });
    const x = tf.tensor([0.7, 1.3, 2.2]);
    const h = p.hyvarinen(x, 0.5);
    // log p_Y is Gaussian: grad_y = -(y - m)/v exactly; check h + 1 against it.
    const v = 0.25 + 0.32;
    values(logScoreFromHyvarinen(h)).forEach((g, i) => expect(g).toBeCloseTo(-Math.log([0.7, 1.3, 2.2][i] as number) / v, 5));
    const back = values(hyvarinenFromLogScore(logScoreFromHyvarinen(h)));
    values(h).forEach((hi, i) => expect(back[i]).toBeCloseTo(hi, 6));
    const viaStein = values(toStein(p.hyvarinen)(x, 0.5));
    values(p.stein(x, 0.5)).forEach((s, i) => expect(viaStein[i]).toBeCloseTo(s, 5));
    const viaHyv = values(toHyvarinen(p.stein)(x, 0.5));
    values(h).forEach((hi, i) => expect(viaHyv[i]).toBeCloseTo(hi, 5));
    const fromLog = values(toStein(logScore((y) => tf.div(tf.neg(y), v)))(x, 0.5));
    values(p.stein(x, 0.5)).forEach((s, i) => expect(fromLog[i]).toBeCloseTo(s, 5));
    tf.dispose([x, h]);
  });

  it("the type system keeps Hyvarinen scores out of Stein slots", () => {
    const h = hyvarinen((x) => tf.neg(tf.onesLike(x)));
    // @ts-expect-error a Hyvarinen score is not a Stein score
    const wrong: SteinScoreFn = h;
    const right: SteinScoreFn = toStein(h);
    expect(h.kind).toBe("hyvarinen");
    expect(typeof wrong).toBe("function");
    expect(typeof right).toBe("function");
  });

  it("leaks no tensors", () => {
    const p = lognormalMixtureScore(gbm(), PAPER_MIXTURE);
    const x = tf.ones([5, 1]);
    const before = tf.memory().numTensors;
    tf.dispose([p.stein(x, 0.3), p.hyvarinen(x, 0.3), p.logProb(x, 0.3), toStein(p.hyvarinen)(x, 0.2)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
