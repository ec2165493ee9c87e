import * as tf from "@tensorflow/tfjs-core";
import { gbm, geometricSchedule, noiseLevel, normalArray, perSample, vpSDE } from "@dale/sde";
import { describe, expect, it } from "vitest";
import { dsmLoss, edmDsmWeighting, edmWeighting, mdsmLoss, sampleNoiseLevelTimes, type BatchScoreFn } from "./index";

const SIGMA_DATA = 0.25;

/** An arbitrary (untrained) denoiser: D(y; sigma) = 0.7 y + 0.1 + 0.05 sigma. */
function denoiser(y: tf.Tensor, sigma: tf.Tensor): tf.Tensor {
  return tf.add(tf.add(tf.mul(y, 0.7), 0.1), tf.mul(sigma, 0.05));
}

describe("EDM's weighting is M-DSM with lambda = v (v + sd^2) / sd^2 (docs/method.md, section 9)", () => {
  const sde = gbm({ sigma: geometricSchedule(0.002, 10) });
  const x0 = tf.tidy(() => tf.exp(tf.randomNormal([4, 3, 3, 1], 0.1, 0.25, "float32", 1)));
  const t = tf.tensor1d([0.05, 0.3, 0.6, 0.95]);
  const noise = tf.tensor(normalArray(x0.size, 7, 0), x0.shape);
  const sigmas = Array.from(t.dataSync(), (ti) => noiseLevel(sde, ti));

  it("mdsmLoss(edmWeighting) equals sum (v + sd^2) / (v sd^2) || D - log x_0 ||^2 per sample", () => {
    // The model's Hyvarinen score from the denoiser by Tweedie in log space: h = (D - y) / v - 1, y = log x (m = 0).
    const model: BatchScoreFn = Object.assign(
      (x: tf.Tensor, tt: tf.Tensor) =>
        tf.tidy(() => {
          const s = perSample(Array.from(tt.dataSync(), (ti) => noiseLevel(sde, ti)), x);
          const y = tf.log(x);
          return tf.sub(tf.div(tf.sub(denoiser(y, s), y), tf.square(s)), 1);
        }),
      { kind: "hyvarinen" as const },
    );
    const got = mdsmLoss(model, x0, { sde, t, noise, weighting: edmWeighting(SIGMA_DATA), reduction: "none" });
    const want = tf.tidy(() => {
      const s = perSample(sigmas, x0);
      const y0 = tf.log(x0);
      const y = tf.add(y0, tf.mul(s, noise));
      const v = tf.square(s);
      const w = tf.div(tf.add(v, SIGMA_DATA ** 2), tf.mul(v, SIGMA_DATA ** 2));
      return tf.sum(tf.mul(w, tf.square(tf.sub(denoiser(y, s), y0))), [1, 2, 3]);
    });
    const g = Array.from(got.dataSync());
    const wv = Array.from(want.dataSync());
    g.forEach((gi, i) => expect(Math.abs(gi - (wv[i] as number))).toBeLessThan(1e-3 * (wv[i] as number)));
    tf.dispose([got, want]);
  });

  it("dsmLoss(edmDsmWeighting) equals EDM's loss in y = x / a(t) for VP", () => {
    const vp = vpSDE();
    const xs = tf.randomNormal([4, 3, 3, 1], 0, 0.5, "float32", 3);
    const tv = tf.tensor1d([0.01, 0.2, 0.5, 0.9]);
    const sv = Array.from(tv.dataSync(), (ti) => noiseLevel(vp, ti));
    const av = sv.map((s) => 1 / Math.sqrt(1 + s * s));
    // Stein score of x from the denoiser: (D - y) / (sigma^2 a), y = x / a.
    const model = (x: tf.Tensor, tt: tf.Tensor) =>
      tf.tidy(() => {
        const s = perSample(Array.from(tt.dataSync(), (ti) => noiseLevel(vp, ti)), x);
        const a = tf.rsqrt(tf.add(1, tf.square(s)));
        const y = tf.div(x, a);
        return tf.div(tf.sub(denoiser(y, s), y), tf.mul(tf.square(s), a));
      });
    const got = dsmLoss(model, xs, { sde: vp, t: tv, noise, weighting: edmDsmWeighting(vp, 0.5), reduction: "none" });
    const want = tf.tidy(() => {
      const s = perSample(sv, xs);
      const y = tf.add(xs, tf.mul(s, noise)); // x_t / a = x_0 + sigma Z
      const w = tf.div(tf.add(tf.square(s), 0.25), tf.mul(tf.square(s), 0.25));
      return tf.sum(tf.mul(w, tf.square(tf.sub(denoiser(y, s), xs))), [1, 2, 3]);
    });
    const g = Array.from(got.dataSync());
    const wv = Array.from(want.dataSync());
    expect(av.every((a) => a > 0)).toBe(true);
    g.forEach((gi, i) => expect(Math.abs(gi - (wv[i] as number))).toBeLessThan(2e-3 * (wv[i] as number)));
    tf.dispose([xs, tv, got, want]);
  });
});

describe("sampleNoiseLevelTimes: EDM's log-normal noise levels", () => {
  const sde = gbm({ sigma: geometricSchedule(0.002, 10) });

  it("ln sigma(t) has mean pMean and std pStd, clipped to [sigma(eps), sigma(T)]", () => {
    const n = 20_000;
    const t = sampleNoiseLevelTimes(n, { sde, seed: 3, pMean: -2, pStd: 0.8 });
    const logs = Array.from(t.dataSync(), (ti) => Math.log(noiseLevel(sde, ti)));
    t.dispose();
    const mean = logs.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    // Clipping is negligible here: ln sigma(1e-3) = -8.3 and ln 10 = 2.3 lie beyond 7 pStd of pMean.
    expect(Math.abs(mean + 2)).toBeLessThan(4 * (0.8 / Math.sqrt(n)) + 1e-3);
    expect(Math.abs(std - 0.8)).toBeLessThan(0.02);
    const wide = sampleNoiseLevelTimes(2000, { sde, seed: 4, pMean: 0, pStd: 5 });
    const w = Array.from(wide.dataSync());
    wide.dispose();
    expect(Math.min(...w)).toBeCloseTo(1e-3, 6);
    expect(Math.max(...w)).toBe(1);
  });

  it("rejects bad options, naming them", () => {
    expect(() => sampleNoiseLevelTimes(4, { sde, seed: 0, pMean: Number.NaN })).toThrow(/sampleNoiseLevelTimes: pMean/);
    expect(() => sampleNoiseLevelTimes(0, { sde, seed: 0, pMean: 0 })).toThrow(/sampleNoiseLevelTimes: batch/);
    expect(() => sampleNoiseLevelTimes(4, { sde, seed: 0, pMean: 0, eps: 2 })).toThrow(/sampleNoiseLevelTimes: eps/);
    expect(() => edmWeighting(0)).toThrow(/edmWeighting: sigmaData/);
  });
});
