import * as tf from "@tensorflow/tfjs-core";
import { gbm, geometricSchedule, noiseCoordinates, vpSDE } from "@dale/sde";
import { gaussianMixtureScore, lognormalMixtureScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import { edmScalings } from "./precondition";
import { fromFunction, toAdditiveScore, toDenoiser, toLossModel, toSamplerScore } from "./score-model";
import { createUNet, unetPresets } from "./unet";

// A two-component mixture per coordinate, in log space for GBM (log X_0) and in x for VP.
const MIX = { weights: [0.3, 0.7], means: [[0.1, 0.5], [0.6, -0.2]], stds: [[0.05, 0.2], [0.08, 0.1]] };

/**
 * The exact denoiser E[y_0 | y_sigma = y] of the mixture under y_sigma = y_0 + sigma Z, written independently of the
 * library: component k (a diagonal Gaussian over both coordinates) has evidence prod_d N(y_d; m_kd, s_kd^2 + sigma^2)
 * and posterior mean m_kd + s_kd^2 (y_d - m_kd) / (s_kd^2 + sigma^2). Float64, for `[n, 2]` data.
 */
function exactDenoiser(y: Float32Array, sigma: number[]): Float64Array {
  const out = new Float64Array(y.length);
  const D = 2;
  for (let n = 0; n < y.length / D; n++) {
    const s2 = (sigma[n] as number) ** 2;
    const logs = MIX.weights.map((w, k) => {
      let l = Math.log(w);
      for (let d = 0; d < D; d++) {
        const v = (MIX.stds[k]?.[d] as number) ** 2 + s2;
        const r = (y[n * D + d] as number) - (MIX.means[k]?.[d] as number);
        l += -0.5 * Math.log(v) - (r * r) / (2 * v);
      }
      return l;
    });
    const top = Math.max(...logs);
    const p = logs.map((l) => Math.exp(l - top));
    const total = p.reduce((a, b) => a + b, 0);
    for (let d = 0; d < D; d++) {
      let acc = 0;
      MIX.weights.forEach((_, k) => {
        const m = MIX.means[k]?.[d] as number;
        const v0 = (MIX.stds[k]?.[d] as number) ** 2;
        acc += ((p[k] as number) / total) * (m + (v0 * ((y[n * D + d] as number) - m)) / (v0 + s2));
      });
      out[n * D + d] = acc;
    }
  }
  return out;
}

/** The exact denoiser as a "denoiser" model: apply(y, sigma[batch]). */
const exactModel = fromFunction(
  (y, sigma) => tf.tensor(Float32Array.from(exactDenoiser(y.dataSync() as Float32Array, Array.from(sigma.dataSync()))), y.shape),
  { output: "denoiser", name: "exact mixture denoiser" },
);

function maxRelErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(b), 1e-3))).dataSync()[0] as number);
}

describe("denoiser models: Tweedie's formula in log space is exact on log-normal mixtures", () => {
  // A GBM whose log space drifts (mu != sigma^2 / 2), so that y = log x - m(t) is tested, and the EDM recipe's one.
  for (const [name, sde] of [
    ["constant sigma with drift", gbm({ sigma: 0.8, mu: 0.1 })],
    ["geometric volatility to 10", gbm({ sigma: geometricSchedule(0.002, 10) })],
  ] as const) {
    const exact = lognormalMixtureScore(sde, MIX);
    const c = noiseCoordinates(sde);
    const x = tf.tidy(() => tf.exp(tf.add(tf.randomNormal([6, 2], 0.3, 0.5, "float32", 3), 0)));

    it(`${name}: toLossModel gives the exact Hyvarinen score h = (D - y) / sigma^2 - 1`, () => {
      const t = tf.tensor1d([0.05, 0.2, 0.4, 0.6, 0.8, 1]);
      const before = tf.memory().numTensors;
      const h = toLossModel(exactModel, sde)(x, t);
      expect(tf.memory().numTensors).toBe(before + 1);
      const want = exact.hyvarinen(x, t);
      expect(maxRelErr(h, want)).toBeLessThan(2e-4);
      tf.dispose([t, h, want]);
    });

    it(`${name}: toSamplerScore gives the exact Stein score`, () => {
      // Not at small sigma: there (D - y) / sigma^2 magnifies D's float32 rounding (about 3e-8) by 1 / sigma^2, which
      // is a property of float32, not of the formula (toLossModel above checks t = 0.05 at a looser scale).
      for (const t of [0.4, 0.7, 1]) {
        const s = toSamplerScore(exactModel, sde)(x, t);
        const want = exact.stein(x, t);
        expect(maxRelErr(s, want)).toBeLessThan(2e-4);
        tf.dispose([s, want]);
      }
    });

    it(`${name}: a Stein model turned into a denoiser gives the exact D`, () => {
      const stein = fromFunction((xx, t) => exact.stein(xx, (t.dataSync()[0] as number)), { output: "stein" });
      for (const t of [0.1, 0.7]) {
        const sigma = c.noiseLevel(t);
        const y = c.toY(x, t);
        const d = toDenoiser(stein, sde)(y, sigma);
        const want = tf.tensor(Float32Array.from(exactDenoiser(y.dataSync() as Float32Array, new Array(6).fill(sigma))), y.shape);
        expect(maxRelErr(d, want)).toBeLessThan(1e-4);
        tf.dispose([y, d, want]);
      }
    });
  }

  it("VP: the denoiser of x / a(t) gives the exact additive score", () => {
    const sde = vpSDE();
    const exact = gaussianMixtureScore(sde, MIX);
    const x = tf.randomNormal([6, 2], 0, 1, "float32", 5);
    const t = tf.tensor1d([0.01, 0.1, 0.3, 0.5, 0.7, 0.9]);
    const s = toAdditiveScore(exactModel, sde)(x, t);
    const want = tf.concat(Array.from(t.dataSync(), (ti, i) => tf.tidy(() => exact.stein(tf.slice(x, [i, 0], [1, 2]), ti))));
    expect(maxRelErr(s, want)).toBeLessThan(2e-4);
    tf.dispose([x, t, s, want]);
  });

  it("refuses t = 0, where there is no noise to remove", () => {
    const sde = gbm({ sigma: geometricSchedule(0.002, 10) });
    const x = tf.ones([1, 2]);
    expect(() => toSamplerScore(exactModel, sde)(x, 0)).toThrow(/toSamplerScore: a "denoiser" model needs a positive noise level/);
    expect(() => toDenoiser(exactModel, sde)(x, 0)).toThrow(/toDenoiser: sigma must be a positive/);
    x.dispose();
  });
});

describe("the preconditioned U-Net (EDM, Table 1)", () => {
  const pre = { sigmaData: 0.25, mean: 0.1 };
  const config = { ...unetPresets.tiny, output: "denoiser" as const, precondition: pre };

  it("c_skip, c_out, c_in and c_noise match the closed forms", () => {
    const sigma = tf.tensor1d([0.002, 0.25, 10]);
    const c = edmScalings(sigma, 0.25);
    const want = [0.002, 0.25, 10].map((s) => ({
      cSkip: 0.0625 / (s * s + 0.0625),
      cOut: (s * 0.25) / Math.sqrt(s * s + 0.0625),
      cIn: 1 / Math.sqrt(s * s + 0.0625),
      cNoise: Math.log(s) / 4,
    }));
    for (const key of ["cSkip", "cOut", "cIn", "cNoise"] as const) {
      const got = Array.from(c[key].dataSync());
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i]?.[key] as number, 6));
    }
    tf.dispose([sigma, ...Object.values(c)]);
  });

  it("at its zero initialisation D = mean + c_skip (y - mean); trained weights add c_out F", () => {
    const net = createUNet(config, { seed: 1 });
    const y = tf.randomNormal([2, 28, 28, 1], 0, 1, "float32", 2);
    const sigma = tf.tensor1d([0.1, 3]);
    const d = net.apply(y, sigma);
    const want = tf.tidy(() => {
      const cSkip = tf.reshape(tf.div(0.0625, tf.add(tf.square(sigma), 0.0625)), [2, 1, 1, 1]);
      return tf.add(tf.mul(tf.sub(y, 0.1), cSkip), 0.1);
    });
    expect(maxRelErr(d, want)).toBeLessThan(1e-5);
    const random = createUNet(config, { seed: 1, zeroInit: false });
    const d2 = random.apply(y, sigma);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(d2, want))).dataSync()[0] as number)).toBeGreaterThan(1e-3);
    tf.dispose([y, sigma, d, want, d2]);
    net.dispose();
    random.dispose();
  });

  it("a denoiser needs precondition, and precondition needs a denoiser", () => {
    expect(() => createUNet({ ...unetPresets.tiny, output: "denoiser" })).toThrow(/createUNet: output "denoiser" needs precondition/);
    expect(() => createUNet({ ...unetPresets.tiny, precondition: pre })).toThrow(/createUNet: precondition applies to output "denoiser" only/);
    expect(() => createUNet({ ...config, precondition: { sigmaData: 0, mean: 0 } })).toThrow(/precondition.sigmaData must be a positive number/);
  });
});
