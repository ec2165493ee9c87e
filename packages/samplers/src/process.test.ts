import * as tf from "@tensorflow/tfjs-core";
import { geometricSchedule, gbm, normalArray, uniformArray, vpSDE } from "@dale/sde";
import { gaussianMixtureScore, lognormalMixtureScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import { daleLangevin, denoiserFromScore, referencePresets, solveProcess, solvers, updateSchedule, type SolverName } from "./index";

// docs/method.md section 6's check: log X_0 ~ 0.5 N(0.1, 0.05^2) + 0.5 N(0.6, 0.08^2), here under the EDM recipe's
// GBM, whose log-noise std runs from 0 to 10 (a geometric volatility), so the exact p_T is nearly the prior.
const MIXTURE = { weights: [0.5, 0.5], means: [[0.1], [0.6]], stds: [[0.05], [0.08]] };
const sde = gbm({ sigma: geometricSchedule(0.002, 10) });
const exact = lognormalMixtureScore(sde, MIXTURE);
const REF = { mean: 0.35, std: Math.sqrt(0.5 * (0.0025 + 0.0064) + 0.0625), below: 0.5 * 0.9999997133 + 0.5 * 0.000889 };

/** n draws from the exact p_T: log X_T ~ 0.5 N(0.1, 0.05^2 + v(T)) + 0.5 N(0.6, 0.08^2 + v(T)). */
function exactPrior(n: number, seed: number): tf.Tensor {
  const z = normalArray(n, seed, 0);
  const u = uniformArray(n, seed, 1);
  const v = sde.logVariance(sde.T);
  const y = Float32Array.from(z, (zi, i) => ((u[i] as number) < 0.5 ? 0.1 + Math.sqrt(0.0025 + v) * zi : 0.6 + Math.sqrt(0.0064 + v) * zi));
  return tf.exp(tf.tensor(y, [n, 1]));
}

function logStats(x: tf.Tensor) {
  const y = Array.from(tf.tidy(() => tf.log(x)).dataSync());
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const std = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length);
  const below = y.filter((v) => v < 0.35).length / y.length;
  return { mean, std, below };
}

describe("every solver reaches the mixture's log-moments with its exact score, sign-preserving in log space", () => {
  const n = 20_000;
  const xT = exactPrior(n, 11);
  const D = denoiserFromScore(exact.stein, sde);
  // Design NFE and tolerances. Measured errors (mean, std, P) with seed 11 on 2026-12-04: euler (-0.0009, -0.0050,
  // -0.0002), heun (0.0002, 0.0047, 0.0017), edm-stochastic (0.0039, 0.0115, -0.0043), dpmpp-2m (0.0004, 0.0047,
  // 0.0005), dpmpp-2m-sde (0.0006, 0.0025, 0.0006). The Monte Carlo error of n = 20k draws is about 0.002 on the mean
  // and 0.0035 on P(log X < 0.35); the shared 0.005 std error of the deterministic solvers is that of these xT draws.
  const cases: [SolverName, number, number][] = [
    ["euler", 50, 0.02],
    ["heun", 35, 0.01],
    ["edm-stochastic", 35, 0.015],
    ["dpmpp-2m", 20, 0.01],
    ["dpmpp-2m-sde", 35, 0.015],
  ];
  for (const [name, nfe, tol] of cases) {
    it(`${name} at NFE ${nfe}: log-mean, log-std and P(log X < 0.35) within ${tol}`, async () => {
      const steps = solvers[name].stepsForNfe(nfe);
      let evaluations = 0;
      const before = tf.memory().numTensors;
      const x = await solveProcess(D, xT, { sde, solver: name, steps, seed: 3, callback: () => evaluations++ });
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(evaluations).toBe(solvers[name].nfe(steps));
      const s = logStats(x);
      x.dispose();
      expect(Math.abs(s.mean - REF.mean)).toBeLessThan(tol);
      expect(Math.abs(s.std - REF.std)).toBeLessThan(tol);
      expect(Math.abs(s.below - REF.below)).toBeLessThan(tol);
    });
  }

  it("keeps every value strictly positive at any step size (1 to 3 steps from log-noise 10)", async () => {
    for (const name of Object.keys(solvers) as SolverName[]) {
      for (const steps of [1, 2, 3]) {
        const x = await solveProcess(D, xT, { sde, solver: name, steps, seed: 1 });
        const bad = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.logicalAnd(tf.greater(x, 0), tf.isFinite(x))), "int32")).dataSync()[0]);
        x.dispose();
        expect(bad, `${name} with ${steps} steps`).toBe(0);
      }
    }
  });

  it("serves the additive baseline unchanged in x / a(t) (VP)", async () => {
    const vp = vpSDE();
    const mix = { weights: [0.5, 0.5], means: [[-0.6], [0.5]], stds: [[0.1], [0.2]] };
    const x0 = await solveProcess(denoiserFromScore(gaussianMixtureScore(vp, mix).stein, vp), vp.prior.sample([n, 1], 5), {
      sde: vp,
      solver: "heun",
      steps: 18,
    });
    const y = Array.from(x0.dataSync());
    x0.dispose();
    const mean = y.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean + 0.05)).toBeLessThan(0.02); // 0.5 (-0.6) + 0.5 (0.5)
    expect(Math.abs(y.filter((v) => v < 0).length / n - 0.5)).toBeLessThan(0.02);
  });
});

describe("solveProcess's options", () => {
  it("rejects an unknown solver name, even one that every object has (constructor), listing the catalogue", async () => {
    const xT = exactPrior(4, 2);
    const D = denoiserFromScore(exact.stein, sde);
    const before = tf.memory().numTensors;
    for (const solver of ["ddim", "constructor"]) {
      await expect(solveProcess(D, xT, { sde, solver: solver as SolverName, steps: 3 })).rejects.toThrow(
        new RegExp(`^solveProcess: solver must be one of "euler", "heun", "edm-stochastic", "dpmpp-2m", "dpmpp-2m-sde", got "${solver}"\\.$`),
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    xT.dispose();
  });
});

describe("the reference schedule never queries the score at t = 0", () => {
  it("the CIFAR-10 preset's 25 noise-free updates run at the last level, T / steps", () => {
    const updates = updateSchedule({ T: 1, ...referencePresets.cifar10.daleLangevin });
    const tail = updates.slice(-25);
    expect(tail.every((u) => u.t === 1 / 1000 && u.noiseScale === 0)).toBe(true);
    expect(Math.min(...updates.map((u) => u.t))).toBeGreaterThan(0);
  });

  it("refuses denoiseTime 0 before the loop, naming it", async () => {
    expect(() => updateSchedule({ T: 1, steps: 10, denoiseSteps: 2, denoiseTime: 0 })).toThrow(/denoiseTime must be in \(0, T = 1\], got 0/);
    let calls = 0;
    const score = (x: tf.Tensor, t: number) => (calls++, exact.stein(x, t));
    const xT = exactPrior(10, 1);
    await expect(daleLangevin(score, xT, { sde, steps: 10, denoiseSteps: 2, denoiseTime: 0 })).rejects.toThrow(/denoiseTime/);
    expect(calls).toBe(0);
    xT.dispose();
  });

  it("the CIFAR-10 preset runs to the end with a score that is undefined at t = 0", async () => {
    const score = (x: tf.Tensor, t: number) => {
      if (!(t > 0)) throw new Error("queried at t = 0");
      return exact.stein(x, t);
    };
    const xT = exactPrior(100, 2);
    const x = await daleLangevin(score, xT, { sde, ...referencePresets.cifar10.daleLangevin, steps: 40 });
    expect(tf.tidy(() => tf.all(tf.isFinite(x)).dataSync()[0])).toBe(1);
    tf.dispose([x, xT]);
  });
});
