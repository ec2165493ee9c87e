import * as tf from "@tensorflow/tfjs-core";
import { gbm, reverse, reverseLog, type ReverseSDE } from "@dale/sde";
import { lognormalMixtureScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import { daleLangevin, eulerMaruyamaStep, heunStep, probabilityFlow, signAgnostic, standardNormal } from "./index";

// log X_0 ~ N(0.2, 0.3^2) under the reference GBM (sigma 0.8, mu = sigma^2 / 2): log X_t ~ N(0.2, 0.09 + 0.64 t).
const sde = gbm({ sigma: 0.8, T: 1 });
const exact = lognormalMixtureScore(sde, { weights: [1], means: [[0.2]], stds: [[0.3]] });
const max = (t: tf.Tensor) => tf.tidy(() => tf.max(t).dataSync()[0] as number);
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => max(tf.tidy(() => tf.abs(tf.sub(a, b))));

describe("the samplers are integrator steps on the reverse processes of @dale/sde", () => {
  const xT = tf.tidy(() => tf.exp(tf.add(0.2, tf.mul(Math.sqrt(0.73), standardNormal(tf.zeros([32, 1]), 11, 0)))));

  it("Dale-Langevin is Euler-Maruyama on reverseLog, then exp; sign-agnostic is Euler-Maruyama on reverse (bit for bit)", async () => {
    const steps = 3;
    const delta = 1 / steps;
    const byHand = (rev: ReverseSDE, start: tf.Tensor, logSpace: boolean) =>
      tf.tidy(() => {
        let s = logSpace ? tf.log(start) : start;
        for (let i = 0; i < steps; i++) {
          const state = s;
          s = eulerMaruyamaStep(rev, state, { t: 1 - i * delta, delta, noiseScale: i === steps - 1 ? 0 : 1, noise: () => standardNormal(state, 5, i) });
        }
        return logSpace ? tf.exp(s) : s;
      });
    const dale = await daleLangevin(exact.stein, xT, { sde, steps, seed: 5 });
    const daleByHand = byHand(reverseLog(sde, exact.stein), xT, true);
    expect(Array.from(dale.dataSync())).toEqual(Array.from(daleByHand.dataSync()));
    const agnostic = await signAgnostic(exact.stein, xT, { sde, steps, seed: 5 });
    const agnosticByHand = byHand(reverse(sde, exact.stein), xT, false);
    expect(Array.from(agnostic.dataSync())).toEqual(Array.from(agnosticByHand.dataSync()));
    tf.dispose([dale, daleByHand, agnostic, agnosticByHand]);
  });

  it("the probability flow is Heun on reverseLog's probability-flow ODE, then exp (bit for bit)", async () => {
    const flow = reverseLog(sde, exact.stein, { probabilityFlow: true });
    const ode = await probabilityFlow(exact.stein, xT, { sde, steps: 4 });
    const byHand = tf.tidy(() => {
      let y = tf.log(xT);
      for (let i = 0; i < 4; i++) y = heunStep(flow, y, { t: 1 - i / 4, delta: 1 / 4 });
      return tf.exp(y);
    });
    expect(Array.from(ode.dataSync())).toEqual(Array.from(byHand.dataSync()));
    tf.dispose([ode, byHand]);
  });
});

describe("eulerMaruyamaStep", () => {
  const y = tf.tensor([[-0.5], [0.1], [0.7]]);

  it("scales the noise by scalarDiffusion when the process gives it, by diffusion(x, t) otherwise: the same step", () => {
    const rev = reverseLog(sde, exact.stein);
    const tensorOnly: ReverseSDE = { drift: rev.drift, diffusion: rev.diffusion };
    const step = { t: 0.6, delta: 0.05, noiseScale: 0.7, noise: () => standardNormal(y, 3, 0) };
    const a = tf.tidy(() => eulerMaruyamaStep(rev, y, step));
    const b = tf.tidy(() => eulerMaruyamaStep(tensorOnly, y, step));
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
    // By hand: y - delta f + eta sigma sqrt(delta) Z.
    const c = tf.tidy(() => tf.add(tf.sub(y, tf.mul(0.05, rev.drift(y, 0.6))), tf.mul(0.7 * 0.8 * Math.sqrt(0.05), standardNormal(y, 3, 0))));
    expect(maxAbsDiff(a, c)).toBeLessThan(1e-6);
    tf.dispose([a, b, c]);
  });

  it("draws no noise for a noise-free update or a process without diffusion", () => {
    const noise = () => {
      throw new Error("drew noise");
    };
    const rev = reverseLog(sde, exact.stein);
    const mean = tf.tidy(() => eulerMaruyamaStep(rev, y, { t: 0.5, delta: 0.1, noiseScale: 0, noise }));
    const byHand = tf.tidy(() => tf.sub(y, tf.mul(0.1, rev.drift(y, 0.5))));
    expect(Array.from(mean.dataSync())).toEqual(Array.from(byHand.dataSync()));
    const flow = tf.tidy(() => eulerMaruyamaStep(reverseLog(sde, exact.stein, { probabilityFlow: true }), y, { t: 0.5, delta: 0.1, noise }));
    tf.dispose([mean, byHand, flow]);
  });

  it("rejects bad steps by name", () => {
    const rev = reverseLog(sde, exact.stein);
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => eulerMaruyamaStep(rev, y, { t: 0.5, delta: 0.1 }))).toThrow(
      /^eulerMaruyamaStep: step\.noise must be a function drawing Z ~ N\(0, I\) of x's shape when noiseScale is not 0, got undefined\.$/,
    );
    expect(() => tf.tidy(() => eulerMaruyamaStep(rev, y, { t: 0.5, delta: 0, noiseScale: 0 }))).toThrow(/^eulerMaruyamaStep: step\.delta must be a finite number > 0, got 0\.$/);
    expect(() => tf.tidy(() => eulerMaruyamaStep(rev, y, { t: Number.NaN, delta: 0.1, noiseScale: 0 }))).toThrow(/^eulerMaruyamaStep: step\.t must be a finite number, got NaN\.$/);
    expect(() => tf.tidy(() => eulerMaruyamaStep(rev, y, { t: 0.5, delta: 0.1, noiseScale: -1 }))).toThrow(/^eulerMaruyamaStep: step\.noiseScale must be a finite number >= 0, got -1\.$/);
    expect(() => tf.tidy(() => eulerMaruyamaStep(rev, y, { t: 0.5, delta: 0.1, noise: () => tf.zeros([3]) }))).toThrow(
      /^eulerMaruyamaStep: step\.noise\(\) must return a tensor of x's shape \[3,1\], got shape \[3\]\.$/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("heunStep", () => {
  it("is second order on GBM's probability-flow ODE in log space (the exact flow keeps each sample's quantile)", () => {
    // The exact flow from T = 1 to t: y_t = 0.2 + (y_1 - 0.2) sqrt((0.09 + 0.64 t) / 0.73).
    const flow = reverseLog(sde, exact.stein, { probabilityFlow: true });
    const y1 = tf.tensor([[-0.8], [0.2], [1.3]]);
    const end = 0.1;
    const exactEnd = tf.tidy(() => tf.add(0.2, tf.mul(tf.sub(y1, 0.2), Math.sqrt((0.09 + 0.64 * end) / 0.73))));
    const errorAt = (n: number, step: (y: tf.Tensor, t: number, delta: number) => tf.Tensor) =>
      tf.tidy(() => {
        let y = y1;
        const delta = (1 - end) / n;
        for (let i = 0; i < n; i++) y = step(y, 1 - i * delta, delta);
        return maxAbsDiff(y, exactEnd);
      });
    const heun = (y: tf.Tensor, t: number, delta: number) => heunStep(flow, y, { t, delta });
    const euler = (y: tf.Tensor, t: number, delta: number) => eulerMaruyamaStep(flow, y, { t, delta });
    const heunRatio = errorAt(8, heun) / errorAt(16, heun);
    const eulerRatio = errorAt(8, euler) / errorAt(16, euler);
    expect(heunRatio).toBeGreaterThan(3.2); // 4 for a second-order method
    expect(eulerRatio).toBeGreaterThan(1.7);
    expect(eulerRatio).toBeLessThan(2.5); // 2 for a first-order one
    expect(errorAt(16, heun)).toBeLessThan(errorAt(16, euler) / 10);
    tf.dispose([y1, exactEnd]);
  });

  it("ends with the Euler step into t = 0, and refuses a process with noise", () => {
    let calls = 0;
    const flow = reverseLog(sde, (x, t) => (calls++, exact.stein(x, t)), { probabilityFlow: true });
    const y = tf.tensor([[0.1], [0.4]]);
    const last = tf.tidy(() => heunStep(flow, y, { t: 0.25, delta: 0.25 }));
    expect(calls).toBe(1);
    const euler = tf.tidy(() => tf.sub(y, tf.mul(0.25, flow.drift(y, 0.25))));
    expect(Array.from(last.dataSync())).toEqual(Array.from(euler.dataSync()));
    expect(() => tf.tidy(() => heunStep(reverseLog(sde, exact.stein), y, { t: 0.5, delta: 0.1 }))).toThrow(
      /^heunStep: rev must be a probability-flow ODE \(scalarDiffusion\(t\) = 0\), e\.g\. reverseLog\(sde, score, \{ probabilityFlow: true \}\)\.$/,
    );
    expect(() => tf.tidy(() => heunStep(reverse(sde, exact.stein), y, { t: 0.5, delta: 0.1 }))).toThrow(/^heunStep: rev must be a probability-flow ODE/);
    tf.dispose([y, last, euler]);
  });
});
