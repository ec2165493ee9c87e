import * as tf from "@tensorflow/tfjs-core";
import { gbm, perSample, veSDE, vpSDE } from "@dale/sde";
import { gaussianMixtureScore, lognormalScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import { fromFunction, hyvarinenToNoise, noiseToHyvarinen, toAdditiveScore, toLossModel, toSamplerScore } from "./score-model";

// log X_0 ~ N(m, s^2) per coordinate; GBM with the reference settings (sigma 0.8, mu = sigma^2 / 2).
const sde = gbm({ sigma: 0.8 });
const params = { mean: [0.2, 0.5, -0.1], std: [0.3, 0.1, 0.2] };
const exact = lognormalScore(sde, params);

function maxRelErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(b), 1e-6))).dataSync()[0] as number);
}

describe("adapters", () => {
  const x = tf.tidy(() => tf.exp(tf.randomNormal([5, 3], 0.3, 0.6, "float32", 11)));

  it("a noise model with the exact z_hat gives the exact Stein score", () => {
    // The exact noise prediction: z = -sqrt(v(t)) (h + 1), h the exact Hyvarinen score of p_t.
    const model = fromFunction((xx, t) => hyvarinenToNoise(exact.hyvarinen(xx, t), t, sde), { output: "noise" });
    const score = toSamplerScore(model, sde);
    for (const t of [0.05, 0.5, 1]) {
      const before = tf.memory().numTensors;
      const s = score(x, t);
      expect(tf.memory().numTensors).toBe(before + 1);
      const want = exact.stein(x, t);
      expect(maxRelErr(s, want)).toBeLessThan(1e-4);
      tf.dispose([s, want]);
    }
    const loss = toLossModel(model, sde);
    expect(loss.kind).toBe("hyvarinen");
    const t = tf.tensor1d([0.1, 0.3, 0.5, 0.7, 0.9]);
    const h = loss(x, t);
    const want = exact.hyvarinen(x, t);
    expect(maxRelErr(h, want)).toBeLessThan(1e-4);
    tf.dispose([t, h, want]);
  });

  it("stein and hyvarinen models convert as declared", () => {
    const stein = fromFunction((xx, t) => exact.stein(xx, t), { output: "stein" });
    const hyv = fromFunction((xx, t) => exact.hyvarinen(xx, t), { output: "hyvarinen" });
    const want = exact.stein(x, 0.4);
    for (const m of [stein, hyv]) {
      const s = toSamplerScore(m, sde)(x, 0.4);
      expect(maxRelErr(s, want)).toBeLessThan(1e-5);
      s.dispose();
    }
    expect(toLossModel(stein, sde).kind).toBeUndefined();
    expect(toLossModel(hyv, sde).kind).toBe("hyvarinen");
    const t = tf.fill([5], 0.4);
    const h = toLossModel(hyv, sde)(x, t);
    const wantH = exact.hyvarinen(x, 0.4);
    expect(maxRelErr(h, wantH)).toBeLessThan(1e-6);
    tf.dispose([want, t, h, wantH]);
  });

  it("noiseToHyvarinen inverts hyvarinenToNoise, and t = 0 is refused for noise models", () => {
    const t = tf.tensor1d([0.2, 0.4, 0.6, 0.8, 1]);
    const h = exact.hyvarinen(x, t);
    const back = noiseToHyvarinen(hyvarinenToNoise(h, t, sde), t, sde);
    expect(maxRelErr(back, h)).toBeLessThan(1e-5);
    const model = fromFunction((xx) => tf.zerosLike(xx), { output: "noise" });
    expect(() => toSamplerScore(model, sde)(x, 0)).toThrow(/logVariance\(t\) > 0/);
    expect(() => toLossModel(model, sde)(x, tf.tensor1d([0.5]))).toThrow(/t must have shape \[5\]/);
    tf.dispose([t, h, back]);
  });

  it("fromFunction keeps the user's variables and names", () => {
    const w = tf.variable(tf.scalar(2), true, "models-test-w");
    const model = fromFunction((xx) => tf.mul(xx, w), { output: "hyvarinen", variables: { scale: w }, name: "linear" });
    expect(model.variables).toEqual([w]);
    expect(Object.keys(model.namedVariables?.() ?? {})).toEqual(["scale"]);
    expect(model.config).toEqual({ kind: "function", output: "hyvarinen", name: "linear" });
    expect(() => fromFunction((xx) => xx, { output: "bogus" as "stein" })).toThrow(/output must be/);
    w.dispose();
  });
});

describe("additive adapters", () => {
  // X_0 ~ N(m, s^2) per coordinate. Under VP, X_t = a X_0 + b Z with a = exp(-B/2), b^2 = 1 - exp(-B),
  // B(t) = 0.1 t + (20 - 0.1) t^2 / 2, so the optimal noise prediction is E[Z | x] = -b * score = b (x - a m) / (a^2 s^2 + b^2).
  const m = 0.3;
  const s = 0.2;
  const vp = vpSDE();
  const coeffs = (t: number) => {
    const B = 0.1 * t + ((20 - 0.1) * t * t) / 2;
    return { a: Math.exp(-B / 2), b: Math.sqrt(1 - Math.exp(-B)) };
  };
  const noiseModel = fromFunction(
    (x, t) =>
      tf.tidy(() => {
        const ab = Array.from(t.dataSync(), (ti) => coeffs(ti));
        const a = perSample(ab.map((c) => c.a), x);
        const b = perSample(ab.map((c) => c.b), x);
        return tf.div(tf.mul(b, tf.sub(x, tf.mul(a, m))), tf.add(tf.mul(tf.square(a), s * s), tf.square(b)));
      }),
    { output: "noise" },
  );

  it("turns the optimal VP noise prediction into the exact score of the Gaussian marginal", () => {
    const exact = gaussianMixtureScore(vp, { weights: [1], means: [[m]], stds: [[s]] });
    const x = tf.tensor2d([[-1.2], [0.1], [0.3], [0.9], [2.5]]);
    for (const t of [0.05, 0.3, 1]) {
      const want = exact.stein(x, t);
      const got = toSamplerScore(noiseModel, vp)(x, t);
      expect(Math.max(...Array.from(tf.abs(tf.sub(got, want)).dataSync()))).toBeLessThan(1e-4 * Math.max(1, ...Array.from(tf.abs(want).dataSync())));
      const batched = toAdditiveScore(noiseModel, vp)(x, tf.fill([5], t));
      expect(Array.from(batched.dataSync())).toEqual(Array.from(got.dataSync()));
      tf.dispose([want, got, batched]);
    }
    x.dispose();
  });

  it("passes a Stein output through, rejects a Hyvarinen one, and leaks nothing", () => {
    const before = tf.memory().numTensors;
    const stein = fromFunction((x) => tf.neg(x), { output: "stein" });
    const x = tf.ones([2, 3]);
    const out = toSamplerScore(stein, veSDE())(x, 0.5);
    expect(Array.from(out.dataSync())).toEqual([-1, -1, -1, -1, -1, -1]);
    tf.dispose([x, out]);
    const hyv = fromFunction((x) => tf.neg(x), { output: "hyvarinen" });
    expect(() => toSamplerScore(hyv, vp)).toThrow(/toAdditiveScore: a "hyvarinen" model cannot be used with the additive vp SDE/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
