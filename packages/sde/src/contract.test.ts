// One contract, every SDE: perturb draws from marginal, Euler-Maruyama on drift/diffusion reaches the marginal,
// the prior is the marginal at T for data at the prior's centre, JSON round-trips, and nothing leaks.
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { gbm, geometricSchedule, linearSchedule, randomNormal, sdeFromJSON, veSDE, vpSDE, type SDE } from "./index";

const cases: [string, SDE, number][] = [
  ["gbm (reference)", gbm(), 1.5],
  ["gbm (linear sigma, mu 0.1)", gbm({ mu: 0.1, sigma: linearSchedule(0.3, 1.2) }), 1.5],
  ["gbm (geometric sigma 0.01 to 2: log space is a VE-SDE)", gbm({ sigma: geometricSchedule(0.01, 2) }), 1.5],
  ["vp", vpSDE(), 0.7],
  ["ve", veSDE({ sigmaMax: 5 }), 0.7],
];

/** Elementwise mean and variance of the marginal, in closed form. */
function marginalMoments(sde: SDE, x0: number, t: number): { mean: number; variance: number } {
  return tf.tidy(() => {
    const m = sde.marginal(tf.tensor([x0]), t);
    if (m.family === "lognormal") {
      const loc = m.loc.dataSync()[0] as number;
      const s2 = (m.scale.dataSync()[0] as number) ** 2;
      return { mean: Math.exp(loc + s2 / 2), variance: Math.expm1(s2) * Math.exp(2 * loc + s2) };
    }
    return { mean: m.mean.dataSync()[0] as number, variance: (m.std.dataSync()[0] as number) ** 2 };
  });
}

describe.each(cases)("SDE contract: %s", (_, sde, start) => {
  const n = 40_000;

  it("perturb draws from marginal (mean within 4 standard errors)", () => {
    const t = 0.6;
    const x0 = tf.fill([n, 1], start);
    const xt = sde.perturb(x0, randomNormal([n, 1], 1), t);
    const { mean, variance } = marginalMoments(sde, start, t);
    const sampleMean = tf.mean(xt).dataSync()[0] as number;
    expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(variance / n));
    tf.dispose([x0, xt]);
  });

  it("Euler-Maruyama on drift and diffusion reaches the marginal at t = 0.6", () => {
    const t = 0.6;
    const steps = 300;
    const dt = t / steps;
    let x = tf.fill([n], start);
    for (let k = 0; k < steps; k++) {
      const next = tf.tidy(() =>
        tf.add(
          tf.add(x, tf.mul(sde.drift(x, k * dt), dt)),
          tf.mul(sde.diffusion(x, k * dt), tf.mul(Math.sqrt(dt), randomNormal([n], 5, k))),
        ),
      );
      x.dispose();
      x = next;
    }
    const { mean, variance } = marginalMoments(sde, start, t);
    const m = tf.moments(x);
    const sampleMean = m.mean.dataSync()[0] as number;
    const sampleVar = m.variance.dataSync()[0] as number;
    // Sampling error plus Euler's O(dt) bias.
    expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(variance / n) + 0.01 * Math.abs(mean));
    expect(Math.abs(sampleVar / variance - 1)).toBeLessThan(0.06);
    tf.dispose([x, m.mean, m.variance]);
  });

  it("round-trips through JSON and leaks no tensors", () => {
    expect(sdeFromJSON(JSON.parse(JSON.stringify(sde.toJSON()))).toJSON()).toEqual(sde.toJSON());
    const x = tf.fill([3, 2], start);
    const times = tf.tensor1d([0.1, 0.2, 0.3]);
    const zeros = tf.zerosLike(x);
    const before = tf.memory().numTensors;
    const m = sde.marginal(x, 0.3);
    tf.dispose([
      sde.drift(x, 0.3),
      sde.diffusion(x, times),
      sde.diffusionDivergence(x, 0.3),
      sde.perturb(x, zeros, 0.3),
      sde.prior.sample([3, 2], 0),
      sde.prior.logProb(x),
      ...(m.family === "lognormal" ? [m.loc, m.scale] : [m.mean, m.std]),
    ]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, times, zeros]);
  });
});
