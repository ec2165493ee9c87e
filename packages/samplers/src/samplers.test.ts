import * as tf from "@tensorflow/tfjs-core";
import { gbm, normalArray, uniformArray, veSDE, vpSDE } from "@dale/sde";
import { gaussianMixtureScore, hyvarinen, lognormalMixtureScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import {
  countNonPositive,
  daleLangevin,
  eulerMaruyama,
  predictorCorrector,
  probabilityFlow,
  referencePresets,
  noiseLevel,
  signAgnostic,
  timeGrid,
  toStein,
  updateSchedule,
  type StepInfo,
} from "./index";

// docs/method.md, section 6: log X_0 ~ 0.5 N(0.1, 0.05^2) + 0.5 N(0.6, 0.08^2), sigma = 0.8, mu = 0.32, T = 1.
const MIXTURE = { weights: [0.5, 0.5], means: [[0.1], [0.6]], stds: [[0.05], [0.08]] };
const sde = gbm({ sigma: 0.8, mu: 0.32, T: 1 });
const exact = lognormalMixtureScore(sde, MIXTURE);
// Exact statistics of the data: E[log X] = 0.35, sd = sqrt(0.5 (0.05^2 + 0.08^2) + 0.25^2),
// P(log X < 0.35) = 0.5 Phi(5) + 0.5 Phi(-3.125).
const REF = { mean: 0.35, std: Math.sqrt(0.5 * (0.0025 + 0.0064) + 0.0625), below: 0.5 * 0.9999997133 + 0.5 * 0.000889 };

/** n draws of X_T from the exact p_T: log X_T ~ 0.5 N(0.1, 0.05^2 + 0.64) + 0.5 N(0.6, 0.08^2 + 0.64). */
function exactPrior(n: number, seed: number): tf.Tensor {
  const z = normalArray(n, seed, 0);
  const u = uniformArray(n, seed, 1);
  const v = sde.logVariance(1);
  const y = Float32Array.from(z, (zi, i) =>
    (u[i] as number) < 0.5 ? 0.1 + Math.sqrt(0.0025 + v) * zi : 0.6 + Math.sqrt(0.0064 + v) * zi,
  );
  return tf.exp(tf.tensor(y, [n, 1]));
}

function logStats(x: tf.Tensor) {
  const y = Array.from(tf.tidy(() => tf.log(x)).dataSync()).filter(Number.isFinite);
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const std = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length);
  const below = y.filter((v) => v < 0.35).length / y.length;
  return { mean, std, below };
}

describe("GBM samplers reproduce the mixture with its exact score (docs/method.md, section 6)", () => {
  const n = 50_000;
  const xT = exactPrior(n, 2024);

  for (const [name, sampler] of [
    ["daleLangevin", daleLangevin],
    ["signAgnostic", signAgnostic],
  ] as const) {
    it(`${name} at 1000 steps: log-mean, log-std and P(log X < 0.35) within 0.01`, async () => {
      const x = await sampler(exact.stein, xT, { sde, steps: 1000, seed: 1 });
      const s = logStats(x);
      expect(Math.abs(s.mean - REF.mean)).toBeLessThan(0.01);
      expect(Math.abs(s.std - REF.std)).toBeLessThan(0.01);
      expect(Math.abs(s.below - REF.below)).toBeLessThan(0.01);
      x.dispose();
    });
  }

  it("probabilityFlow (Heun, 100 steps) does too, deterministically", async () => {
    const x = await probabilityFlow(exact.stein, xT, { sde, steps: 100 });
    const s = logStats(x);
    expect(Math.abs(s.mean - REF.mean)).toBeLessThan(0.01);
    expect(Math.abs(s.std - REF.std)).toBeLessThan(0.01);
    expect(Math.abs(s.below - REF.below)).toBeLessThan(0.01);
    const again = await probabilityFlow(exact.stein, xT, { sde, steps: 100 });
    expect(tf.max(tf.abs(tf.sub(x, again))).dataSync()[0]).toBe(0);
    tf.dispose([x, again]);
  });

  it("at 10 steps daleLangevin never leaves the positive orthant, while signAgnostic does", async () => {
    const dale = await daleLangevin(exact.stein, xT, { sde, steps: 10, seed: 1 });
    expect(countNonPositive(dale)).toBe(0);
    expect(tf.all(tf.isFinite(dale)).dataSync()[0]).toBe(1);
    const reports: StepInfo[] = [];
    const agnostic = await signAgnostic(exact.stein, xT, { sde, steps: 10, seed: 1, callback: (i) => reports.push({ ...i }) });
    const flipped = countNonPositive(agnostic);
    expect(flipped).toBeGreaterThan(0);
    expect(reports.at(-1)?.nonPositive).toBe(flipped);
    expect(reports.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    tf.dispose([dale, agnostic]);
  });
});

describe("time grids", () => {
  it("uniform: T k / steps; karras: noise levels evenly spaced in their 7th root from T to tMin, then 0", () => {
    expect(Array.from(timeGrid(sde, 4))).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const t = timeGrid(sde, 10, { grid: "karras" });
    expect(t).toHaveLength(11);
    expect([t[0], t[9], t[10]]).toEqual([1, 1e-3, 0]);
    // GBM's noise level is sqrt(v(t)) = 0.8 sqrt(t) for the reference process.
    const roots = Array.from(t.subarray(0, 10), (ti) => (0.8 * Math.sqrt(ti)) ** (1 / 7));
    const gap = (roots[9]! - roots[0]!) / 9;
    roots.forEach((r, i) => expect(r).toBeCloseTo(roots[0]! + i * gap, 9));
    expect(noiseLevel(sde, 0.3)).toBeCloseTo(0.8 * Math.sqrt(0.3), 12);
    // VP: sqrt(e^B(t) - 1), B(0.5) = 0.1 * 0.5 + 19.9 * 0.5^2 / 2 = 2.5375; VE: sigma(t).
    expect(noiseLevel(vpSDE(), 0.5)).toBeCloseTo(Math.sqrt(Math.expm1(2.5375)), 10);
    expect(noiseLevel(veSDE({ sigmaMin: 0.01, sigmaMax: 50 }), 0.5)).toBeCloseTo(Math.sqrt(0.01 * 50), 10);
    expect(timeGrid(sde, 1, { grid: "karras" })[1]).toBe(0);
  });

  it("takes an explicit grid and rejects bad ones, and the options that need another grid, by name", async () => {
    const grid = [1, 0.3, 0.05, 0];
    expect(updateSchedule({ T: 1, steps: 3, times: grid }).map((u) => [u.t, u.delta])).toEqual([
      [1, 0.7],
      [0.3, 0.25],
      [0.05, 0.05],
    ]);
    const xT = exactPrior(16, 9);
    const bad = async (options: object, message: RegExp) =>
      expect(daleLangevin(exact.stein, xT, { sde, steps: 3, ...options })).rejects.toThrow(message);
    await bad({ grid: [1, 0.5, 0] }, /explicit grid needs steps \+ 1 = 4 times, got 3/);
    await bad({ grid: [1, 0.5, 0.6, 0] }, /must fall strictly; times\[1\] = 0.5, times\[2\] = 0.6/);
    await bad({ grid: [2, 0.5, 0.1, 0] }, /start at or below T = 1 and end at 0/);
    await bad({ grid: [1, 0.5, 0.1, 0.01] }, /end at 0/);
    await bad({ grid: "karras", delta: 1e-3 }, /delta .* works on the uniform grid only/);
    await bad({ rho: 3 }, /rho and tMin shape the "karras" grid/);
    await bad({ grid: "karras", tMin: 1 }, /tMin must be in \(0, T = 1\), got 1/);
    await bad({ grid: "cosine" }, /grid must be "uniform", "karras" or an array of times, got "cosine"/);
    xT.dispose();
  });

  it("at 10 levels the karras grid gets Dale-Langevin and the probability flow to the exact statistics; the uniform grid does not", async () => {
    const xT = exactPrior(50_000, 77);
    const dl = logStats(await daleLangevin(exact.stein, xT, { sde, steps: 10, seed: 4, grid: "karras" }));
    const ode = logStats(await probabilityFlow(exact.stein, xT, { sde, steps: 10, grid: "karras" }));
    for (const s of [dl, ode]) {
      expect(Math.abs(s.mean - REF.mean)).toBeLessThan(0.01);
      expect(Math.abs(s.std - REF.std)).toBeLessThan(0.008);
      expect(Math.abs(s.below - REF.below)).toBeLessThan(0.015);
    }
    // The uniform grid at the same cost: log-std 0.32 (with noise in the last step) or 0.20 (without) against 0.259,
    // and 0.273 for the probability flow (measured with numpy: tooling/exact-score-grids/onedim.py).
    const uniformNoisy = logStats(await daleLangevin(exact.stein, xT, { sde, steps: 10, seed: 4, denoise: false }));
    const uniformDenoised = logStats(await daleLangevin(exact.stein, xT, { sde, steps: 10, seed: 4 }));
    const uniformOde = logStats(await probabilityFlow(exact.stein, xT, { sde, steps: 10 }));
    expect(uniformNoisy.std - REF.std).toBeGreaterThan(0.04);
    expect(REF.std - uniformDenoised.std).toBeGreaterThan(0.04);
    expect(uniformOde.std - REF.std).toBeGreaterThan(0.01);
    xT.dispose();
  });

  it("denoise (the default of the GBM samplers): the last update adds no noise", async () => {
    const u = updateSchedule({ T: 1, steps: 3, denoise: true });
    expect(u.map((x) => x.noiseScale)).toEqual([1, 1, 0]);
    // One step from T with denoise is the drift alone: x exp(delta sigma^2 h - delta (mu - 3 sigma^2 / 2)).
    const xT = exactPrior(32, 3);
    const one = await daleLangevin(exact.stein, xT, { sde, steps: 1, seed: 5 });
    const other = await daleLangevin(exact.stein, xT, { sde, steps: 1, seed: 6 });
    const manual = tf.tidy(() => tf.mul(xT, tf.exp(tf.add(tf.mul(0.64, exact.hyvarinen(xT, 1)), -(0.32 - 1.5 * 0.64)))));
    expect(tf.max(tf.abs(tf.sub(tf.log(one), tf.log(manual)))).dataSync()[0]).toBeLessThan(1e-5);
    expect(Array.from(one.dataSync())).toEqual(Array.from(other.dataSync()));
    const noisy = await daleLangevin(exact.stein, xT, { sde, steps: 1, seed: 5, denoise: false });
    expect(tf.max(tf.abs(tf.sub(tf.log(noisy), tf.log(manual)))).dataSync()[0]).toBeGreaterThan(0.1);
    tf.dispose([xT, one, other, manual, noisy]);
  });

  it("the additive samplers take the karras grid too (VP noise level sqrt(e^B - 1))", async () => {
    const vp = vpSDE();
    const t = timeGrid(vp, 8, { grid: "karras" });
    const roots = Array.from(t.subarray(0, 8), (ti) => noiseLevel(vp, ti) ** (1 / 7));
    roots.forEach((r, i) => expect(r).toBeCloseTo(roots[0]! + (i * (roots[7]! - roots[0]!)) / 7, 9));
    const xT = vp.prior.sample([64, 1], 1);
    const reports: number[] = [];
    const x = await eulerMaruyama((y) => tf.neg(y), xT, { sde: vp, steps: 8, grid: "karras", callback: (i) => reports.push(i.t) });
    expect(reports).toEqual(Array.from(t.subarray(0, 8)));
    tf.dispose([x, xT]);
  });
});

describe("sampler contract", () => {
  const small = () => exactPrior(64, 5);

  it("is seeded: the same seed gives the same samples, another seed different ones", async () => {
    const xT = small();
    const a = await daleLangevin(exact.stein, xT, { sde, steps: 20, seed: 7 });
    const b = await daleLangevin(exact.stein, xT, { sde, steps: 20, seed: 7 });
    const c = await daleLangevin(exact.stein, xT, { sde, steps: 20, seed: 8 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([xT, a, b, c]);
  });

  it("leaks no tensors over a 1,000-step run of every sampler, and never disposes xT", async () => {
    const xT = small();
    const before = tf.memory().numTensors;
    for (const s of [daleLangevin, signAgnostic]) (await s(exact.stein, xT, { sde, steps: 1000 })).dispose();
    (await probabilityFlow(exact.stein, xT, { sde, steps: 1000 })).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(xT.isDisposed).toBe(false);
    xT.dispose();
  });

  it("stops on an AbortSignal between updates and leaks nothing", async () => {
    const xT = small();
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const run = daleLangevin(exact.stein, xT, {
      sde,
      steps: 1000,
      signal: controller.signal,
      callback: (i) => (i.step === 10 ? controller.abort(new Error("stop here")) : undefined),
    });
    await expect(run).rejects.toThrow("stop here");
    expect(tf.memory().numTensors).toBe(before);
    xT.dispose();
  });

  it("takes a Hyvarinen score only through toStein, and says so", async () => {
    const xT = small();
    const h = hyvarinen((x, t) => exact.hyvarinen(x, t));
    // @ts-expect-error a Hyvarinen score is not a Stein score
    await expect(daleLangevin(h, xT, { sde, steps: 5 })).rejects.toThrow(/got a "hyvarinen" score\. Wrap it: toStein/);
    const viaH = await daleLangevin(toStein(h), xT, { sde, steps: 5, seed: 3 });
    const viaS = await daleLangevin(exact.stein, xT, { sde, steps: 5, seed: 3 });
    expect(tf.max(tf.abs(tf.sub(tf.log(viaH), tf.log(viaS)))).dataSync()[0]).toBeLessThan(1e-4);
    tf.dispose([xT, viaH, viaS]);
  });

  it("rejects bad input with errors that name it", async () => {
    const xT = small();
    await expect(daleLangevin(exact.stein, tf.tensor([[1], [-1]]), { sde, steps: 5 })).rejects.toThrow(
      /daleLangevin: xT must be strictly positive.*sde\.prior\.sample/,
    );
    await expect(daleLangevin((x) => tf.sum(x), xT, { sde, steps: 5 })).rejects.toThrow(
      /^daleLangevin: score\(x, t\) must return a float32 tensor of x's shape \[64,1\], got a float32 tensor of shape \[\] at t = 1\.$/,
    );
    await expect(signAgnostic(exact.stein, xT, { sde, steps: 0 })).rejects.toThrow(/steps must be an integer >= 1/);
    await expect(signAgnostic(exact.stein, xT, { sde, steps: 5, anneal: 1.5 })).rejects.toThrow(/anneal must be in \(0, 1\]/);
    xT.dispose();
  });
});

describe("the score's output is checked on every call, and bad starts are refused", () => {
  /** exact.stein, except at the call numbered `bad` (1-based), where it returns `wrong(x)`. */
  const failingAt = (bad: number, wrong: (x: tf.Tensor) => tf.Tensor) => {
    let calls = 0;
    return (x: tf.Tensor, t: number) => (++calls === bad ? wrong(x) : exact.stein(x, t));
  };
  const additive = vpSDE();
  const additiveScore = gaussianMixtureScore(additive, { weights: [1], means: [[0]], stds: [[1]] }).stein;
  const shapes: [string, (x: tf.Tensor) => tf.Tensor, RegExp][] = [
    ["a [1] tensor (which would broadcast)", () => tf.ones([1]), /got a float32 tensor of shape \[1\] at t = 0\.6\.$/],
    ["an int32 tensor of x's shape", (x) => tf.onesLike(tf.cast(x, "int32")), /got a int32 tensor of shape \[8,1\] at t = 0\.6\.$/],
  ];

  it.each(shapes)("every sampler rejects %s returned at the fifth call, not only the first, and leaks nothing", async (_, wrong, tail) => {
    const xT = exactPrior(8, 4);
    const xA = additive.prior.sample([8, 1], 4);
    const before = tf.memory().numTensors;
    const gbmRuns: [string, (s: (x: tf.Tensor, t: number) => tf.Tensor) => Promise<tf.Tensor>][] = [
      ["daleLangevin", (s) => daleLangevin(s, xT, { sde, steps: 10 })],
      ["signAgnostic", (s) => signAgnostic(s, xT, { sde, steps: 10 })],
    ];
    for (const [name, run] of gbmRuns) {
      await expect(run(failingAt(5, wrong))).rejects.toThrow(new RegExp(`^${name}: score\\(x, t\\) must return a float32 tensor of x's shape \\[8,1\\], ${tail.source}`));
    }
    // Probability flow evaluates twice per step (Heun): its fifth call is the first of step 3, at t = 0.8.
    await expect(probabilityFlow(failingAt(5, wrong), xT, { sde, steps: 10 })).rejects.toThrow(/^probabilityFlow: score\(x, t\) must return a float32 tensor .* at t = 0\.8\.$/);
    const additiveFailingAt = (bad: number) => {
      let calls = 0;
      return (x: tf.Tensor, t: number) => (++calls === bad ? wrong(x) : additiveScore(x, t));
    };
    await expect(eulerMaruyama(additiveFailingAt(5), xA, { sde: additive, steps: 10 })).rejects.toThrow(new RegExp(`^eulerMaruyama: .*${tail.source}`));
    await expect(predictorCorrector(additiveFailingAt(5), xA, { sde: additive, steps: 10 })).rejects.toThrow(/^predictorCorrector: score\(x, t\) must return a float32 tensor/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xT, xA]);
  });

  it("refuses xT with +Infinity, -Infinity or NaN (GBM: also <= 0), counting the bad values and showing one", async () => {
    const infinite = tf.tensor([[1], [Infinity], [2]]);
    const nan = tf.tensor([[0.5], [Number.NaN], [Number.NaN]]);
    const before = tf.memory().numTensors;
    await expect(daleLangevin(exact.stein, infinite, { sde, steps: 5 })).rejects.toThrow(
      /^daleLangevin: xT must be strictly positive and finite.*1 of 3 values are not \(xT\[1, 0\] = Infinity\)\. Draw it from the SDE's log-normal prior/,
    );
    await expect(eulerMaruyama(additiveScore, nan, { sde: additive, steps: 5 })).rejects.toThrow(
      /^eulerMaruyama: xT must be finite; 2 of 3 values are NaN or infinite \(xT\[1, 0\] = NaN\)\.$/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([infinite, nan]);
  });
});

describe("the reference schedule", () => {
  it("repeats each level L times, anneals the noise after each level, then adds noise-free steps at the last level", () => {
    const u = updateSchedule({ T: 1, steps: 4, delta: 1e-3, repeats: 2, anneal: 0.5, denoiseSteps: 3 });
    expect(u).toHaveLength(4 * 2 + 3);
    expect(u.map((x) => x.t)).toEqual([1, 1, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25]);
    expect(u.map((x) => x.noiseScale)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0, 0, 0]);
    expect(u.every((x) => x.delta === 1e-3)).toBe(true);
    const plain = updateSchedule({ T: 2, steps: 4 });
    expect(plain.map((x) => x.delta)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it("holds the paper's per-dataset values and plugs straight into the samplers", async () => {
    expect(referencePresets.mnist.daleLangevin).toMatchObject({ steps: 1000, delta: 6.1655e-4, repeats: 1, anneal: 0.995 });
    expect(referencePresets.cifar10.signAgnostic).toMatchObject({ delta: 1.4384e-4, repeats: 5, denoiseSteps: 25 });
    const reports: number[] = [];
    const preset = { ...referencePresets.kmnist.daleLangevin, steps: 10 };
    const xT = exactPrior(8, 1);
    const x = await daleLangevin(exact.stein, xT, { sde, ...preset, callback: (i) => reports.push(i.step) });
    expect(reports.at(-1)).toBe(10 * 3);
    tf.dispose([x, xT]);
  });
});

describe("additive samplers (VP-SDE) reproduce a 2-D Gaussian mixture with its exact score", () => {
  const vp = vpSDE();
  const mixture = {
    weights: [0.3, 0.7],
    means: [
      [-1, 1],
      [1, -0.5],
    ],
    stds: [
      [0.3, 0.5],
      [0.4, 0.2],
    ],
  };
  const score = gaussianMixtureScore(vp, mixture);
  // Exact moments of the data.
  const mean = [0.3 * -1 + 0.7 * 1, 0.3 * 1 + 0.7 * -0.5];
  const second = [0.3 * (1 + 0.09) + 0.7 * (1 + 0.16), 0.3 * (1 + 0.25) + 0.7 * (0.25 + 0.04)];
  const n = 20_000;

  const check = (x: tf.Tensor) => {
    const m = tf.mean(x, 0).dataSync();
    const m2 = tf.mean(tf.square(x), 0).dataSync();
    for (let i = 0; i < 2; i++) {
      expect(Math.abs((m[i] as number) - (mean[i] as number))).toBeLessThan(0.03);
      expect(Math.abs((m2[i] as number) - (second[i] as number))).toBeLessThan(0.05);
    }
  };

  it("Euler-Maruyama, 500 steps", async () => {
    const xT = vp.prior.sample([n, 2], 3);
    const x = await eulerMaruyama(score.stein, xT, { sde: vp, steps: 500, seed: 1 });
    check(x);
    tf.dispose([x, xT]);
  });

  it("Euler-Maruyama under the VE-SDE (sigma_max 5), 500 steps", async () => {
    const ve = veSDE({ sigmaMax: 5 });
    const xT = ve.prior.sample([n, 2], 5);
    const x = await eulerMaruyama(gaussianMixtureScore(ve, mixture).stein, xT, { sde: ve, steps: 500, seed: 2 });
    check(x);
    tf.dispose([x, xT]);
  });

  it("predictor-corrector, 200 steps", async () => {
    const xT = vp.prior.sample([n, 2], 4);
    const x = await predictorCorrector(score.stein, xT, { sde: vp, steps: 200, seed: 1 });
    check(x);
    tf.dispose([x, xT]);
  });

  it("predictor-corrector stays finite and near the data on coarse grids (5 and 10 levels)", async () => {
    // With the corrector's factor taken as 1 - beta(t) delta (beta_max 20), these grids gave a negative step size and
    // NaN everywhere; a benchmark clipped the NaN to black images.
    for (const steps of [5, 10]) {
      const xT = vp.prior.sample([4000, 2], 6);
      const x = await predictorCorrector(score.stein, xT, { sde: vp, steps, seed: 2 });
      const v = x.dataSync();
      expect(v.every((a) => Number.isFinite(a)), `steps ${steps}`).toBe(true);
      const m = tf.mean(x, 0).dataSync();
      // A coarse grid is biased, but it stays in the data's region: means within 0.25 of the exact ones.
      for (let i = 0; i < 2; i++) expect(Math.abs((m[i] as number) - (mean[i] as number)), `steps ${steps}, coordinate ${i}`).toBeLessThan(0.25);
      tf.dispose([x, xT]);
    }
  });
});
