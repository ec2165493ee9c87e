import * as tf from "@tensorflow/tfjs-core";
import { normalArray, uniformArray } from "@dale/sde";
import { describe, expect, it } from "vitest";
import {
  dpmpp2m,
  dpmpp2mSde,
  edmStochastic,
  euler,
  heun,
  karrasSigmas,
  solvers,
  type Denoiser,
  type SolverInfo,
  type SolverName,
} from "./index";

// Data in denoising coordinates: y_0 ~ 0.5 N(-1, 0.3^2) + 0.5 N(1.5, 0.2^2). Its exact statistics:
// mean 0.25; variance 0.5 (0.09 + 1) + 0.5 (0.04 + 2.25) - 0.25^2 = 1.6275, std 1.27574;
// P(y_0 < 0.25), the weight of the lower mode: 0.5 Phi(1.25 / 0.3) + 0.5 Phi(-1.25 / 0.2) = 0.4999923.
const MIXTURE = [
  { w: 0.5, m: -1, s: 0.3 },
  { w: 0.5, m: 1.5, s: 0.2 },
] as const;
const EXACT = { mean: 0.25, std: Math.sqrt(1.6275), below: 0.49999227 };
const MIDPOINT = 0.25;
const SIGMA_MAX = 20;
const SIGMA_MIN = 0.002;
const sigmasFor = (steps: number) => karrasSigmas(steps, { sigmaMin: SIGMA_MIN, sigmaMax: SIGMA_MAX });

/**
 * The exact denoiser of the mixture at noise sigma. y_sigma is a mixture of N(m_k, s_k^2 + sigma^2) with posterior
 * responsibilities r_k(y) (a softmax of the log-densities, so log-sum-exp stable), and
 * E[y_0 | y] = sum_k r_k (m_k + s_k^2 / (s_k^2 + sigma^2) (y - m_k)).
 */
const exactDenoiser: Denoiser = (y, sigma) =>
  tf.tidy(() => {
    const logits: tf.Tensor[] = [];
    const means: tf.Tensor[] = [];
    for (const { w, m, s } of MIXTURE) {
      const v = s * s + sigma * sigma;
      const c = tf.sub(y, m);
      logits.push(tf.sub(Math.log(w) - 0.5 * Math.log(2 * Math.PI * v), tf.div(tf.square(c), 2 * v)));
      means.push(tf.add(m, tf.mul((s * s) / v, c)));
    }
    return tf.sum(tf.mul(tf.softmax(tf.stack(logits, -1)), tf.stack(means, -1)), -1);
  });

/** n draws from the exact p at sigma_max: a mixture component (uniforms, stream 1), then m_k + sqrt(s_k^2 + 20^2) Z. */
function exactStart(n: number, seed: number): Float32Array {
  const z = normalArray(n, seed, 0);
  const u = uniformArray(n, seed, 1);
  return Float32Array.from(z, (zi, i) => {
    const c = MIXTURE[(u[i] as number) < 0.5 ? 0 : 1];
    return c.m + Math.sqrt(c.s * c.s + SIGMA_MAX * SIGMA_MAX) * zi;
  });
}

function stats(y: ArrayLike<number>) {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i] as number;
  mean /= y.length;
  let v = 0;
  let below = 0;
  for (let i = 0; i < y.length; i++) {
    v += ((y[i] as number) - mean) ** 2;
    if ((y[i] as number) < MIDPOINT) below++;
  }
  return { mean, std: Math.sqrt(v / y.length), below: below / y.length };
}

/** erfc with fractional error below 1.2e-7 everywhere (Chebyshev fit of Numerical Recipes' erfcc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const p = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
  const r = t * Math.exp(-z * z + p.reduceRight((acc, c, k) => (k === 0 ? c + acc : t * (c + acc)), 0));
  return x >= 0 ? r : 2 - r;
}

/** P(y_sigma <= y) and P(y_sigma > y) of the mixture, each summed from erfc so that both tails keep their digits. */
const cdf = (y: number, sigma: number) =>
  MIXTURE.reduce((a, { w, m, s }) => a + 0.5 * w * erfc(-(y - m) / Math.sqrt(2 * (s * s + sigma * sigma))), 0);
const sf = (y: number, sigma: number) =>
  MIXTURE.reduce((a, { w, m, s }) => a + 0.5 * w * erfc((y - m) / Math.sqrt(2 * (s * s + sigma * sigma))), 0);

/**
 * Where the probability-flow ODE takes y from sigma_max to 0. In one dimension its flow is monotone and carries
 * p_{sigma_max} to p_0, so it is the quantile map F_0^{-1}(F_{sigma_max}(y)); solved by bisection in the smaller tail.
 */
function exactFlow(yT: number): number {
  const lower = cdf(yT, SIGMA_MAX) < 0.5;
  const target = lower ? cdf(yT, SIGMA_MAX) : sf(yT, SIGMA_MAX);
  let lo = -10;
  let hi = 10;
  for (let k = 0; k < 60; k++) {
    const mid = 0.5 * (lo + hi);
    if (lower ? cdf(mid, 0) < target : sf(mid, 0) > target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

const N = 20_000;
const startValues = exactStart(N, 11);
const exactEnd = Float64Array.from(startValues, exactFlow);

async function solve(name: SolverName, nfe: number, options: object = {}): Promise<Float32Array> {
  const entry = solvers[name];
  const y = tf.tensor(startValues);
  const out = await entry.solve(exactDenoiser, y, { sigmas: sigmasFor(entry.stepsForNfe(nfe)), ...options });
  const values = out.dataSync() as Float32Array;
  tf.dispose([y, out]);
  return values;
}

/** Mean absolute distance of the solver's endpoints from the exact flow's: the global error of the ODE solver. */
function flowError(values: Float32Array): number {
  let e = 0;
  for (let i = 0; i < N; i++) e += Math.abs((values[i] as number) - (exactEnd[i] as number));
  return e / N;
}

describe("the exact references the tests rely on", () => {
  it("erfc and the exact flow are right: the flow of the 20,000 draws has the data's statistics", () => {
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 7);
    expect(erfc(2)).toBeCloseTo(0.004677734981047265, 8);
    expect(erfc(-1.3)).toBeCloseTo(1.9340079449406524, 7);
    expect(cdf(0.7, 3) + sf(0.7, 3)).toBeCloseTo(1, 12);
    // Sampling error of 20,000 draws (standard errors): mean 0.009, std 0.0018, weight 0.0035.
    const s = stats(exactEnd);
    expect(Math.abs(s.mean - EXACT.mean)).toBeLessThan(0.01);
    expect(Math.abs(s.std - EXACT.std)).toBeLessThan(0.004);
    expect(Math.abs(s.below - EXACT.below)).toBeLessThan(0.004);
  });

  it("the exact denoiser is E[y_0 | y]: the mode's mean far inside a mode, and y itself at tiny sigma", () => {
    const y = tf.tensor([-1, 1.5, 0.1, 5]);
    const dNear0 = exactDenoiser(y, 1e-4).dataSync();
    [-1, 1.5, 0.1, 5].forEach((v, i) => expect(dNear0[i]).toBeCloseTo(v, 4));
    // At sigma = 1000 the posterior is the prior: E[y_0] = 0.25 for every y of moderate size.
    const dFar = exactDenoiser(y, 1000).dataSync();
    dFar.forEach((v) => expect(v).toBeCloseTo(0.25, 3));
    y.dispose();
  });
});

describe("karrasSigmas (Karras et al. 2022, eq. 5)", () => {
  it("spaces steps levels evenly in sigma^(1/rho) from sigmaMax to sigmaMin, then 0", () => {
    const s = karrasSigmas(18, { sigmaMin: 0.002, sigmaMax: 80 });
    expect(s).toHaveLength(19);
    expect([s[0], s[17], s[18]]).toEqual([80, 0.002, 0]);
    const roots = Array.from(s.subarray(0, 18), (v) => v ** (1 / 7));
    const gap = (roots[17]! - roots[0]!) / 17;
    roots.forEach((r, i) => expect(r).toBeCloseTo(roots[0]! + i * gap, 12));
    // rho = 1 is linear spacing.
    expect(Array.from(karrasSigmas(4, { sigmaMin: 1, sigmaMax: 4, rho: 1 }))).toEqual([4, 3, 2, 1, 0]);
    expect(Array.from(karrasSigmas(1, { sigmaMin: 0.002, sigmaMax: 80 }))).toEqual([80, 0]);
  });

  it("rejects bad arguments by name", () => {
    expect(() => karrasSigmas(0, { sigmaMin: 0.1, sigmaMax: 1 })).toThrow(/karrasSigmas: steps must be an integer >= 1, got 0/);
    expect(() => karrasSigmas(5, { sigmaMin: 2, sigmaMax: 1 })).toThrow(/karrasSigmas: sigmaMin and sigmaMax must satisfy 0 < sigmaMin < sigmaMax/);
    expect(() => karrasSigmas(5, { sigmaMin: 0, sigmaMax: 1 })).toThrow(/sigmaMin and sigmaMax/);
    expect(() => karrasSigmas(5, { sigmaMin: 0.1, sigmaMax: 1, rho: -1 })).toThrow(/karrasSigmas: rho must be a positive number/);
  });
});

// Each solver at its design NFE, from the exact p at sigma_max = 20 on karrasSigmas(steps, 0.002, 20). Tolerances:
// sampling error (3 standard errors of 20,000 draws: mean 0.027, std 0.0055, weight 0.011) plus the solver's own
// error at that NFE. Measured on these draws (seed 11; the stochastic ones for seeds 1 to 4 and a second set of draws):
//   euler          50 NFE: mean -0.002, std -0.019, weight +0.003
//   heun           35 NFE: mean -0.006, std +0.015, weight +0.002
//   dpmpp-2m       20 NFE: mean -0.007, std +0.015, weight +0.003
//   edm-stochastic 59 NFE: mean up to 0.012, std +0.005 to +0.010, weight up to 0.006 (35 NFE: std +0.03)
//   dpmpp-2m-sde   30 NFE: mean up to 0.014, std +0.007 to +0.011, weight up to 0.006 (20 NFE: std +0.03)
const DESIGN: { name: SolverName; nfe: number; std: number; mean: number; below: number }[] = [
  { name: "euler", nfe: 50, std: 0.03, mean: 0.03, below: 0.012 },
  { name: "heun", nfe: 35, std: 0.025, mean: 0.03, below: 0.012 },
  { name: "dpmpp-2m", nfe: 20, std: 0.025, mean: 0.03, below: 0.012 },
  { name: "edm-stochastic", nfe: 59, std: 0.02, mean: 0.03, below: 0.012 },
  { name: "dpmpp-2m-sde", nfe: 30, std: 0.02, mean: 0.03, below: 0.012 },
];

describe("every solver reproduces the mixture from the exact p at sigma_max = 20 with its exact denoiser", () => {
  for (const { name, nfe, std, mean, below } of DESIGN) {
    it(`${name} at ${nfe} NFE: |mean error| < ${mean}, |std error| < ${std}, |weight error| < ${below}`, async () => {
      const s = stats(await solve(name, nfe, { seed: 1 }));
      expect(Math.abs(s.mean - EXACT.mean)).toBeLessThan(mean);
      expect(Math.abs(s.std - EXACT.std)).toBeLessThan(std);
      expect(Math.abs(s.below - EXACT.below)).toBeLessThan(below);
    });
  }

  it("the same checks fail at half the design NFE or less: the std misses by more than 0.05", async () => {
    // Measured: euler at 10 NFE -0.116, heun at 19 NFE +0.068, dpmpp-2m at 10 NFE +0.117, dpmpp-2m-sde at 10 NFE +0.24.
    for (const [name, nfe] of [
      ["euler", 10],
      ["heun", 19],
      ["dpmpp-2m", 10],
      ["dpmpp-2m-sde", 10],
    ] as const) {
      const s = stats(await solve(name, nfe, { seed: 1 }));
      expect(Math.abs(s.std - EXACT.std), `${name} at ${nfe} NFE`).toBeGreaterThan(0.05);
    }
  });

  it("the ODE solvers follow the exact flow sample by sample, with errors of their order", async () => {
    // Mean |y - flow(y_T)| at the design NFE, measured: euler 0.023 (50 NFE), heun 0.0142 (35), dpmpp-2m 0.0171 (20).
    expect(flowError(await solve("euler", 50))).toBeLessThan(0.035);
    expect(flowError(await solve("heun", 35))).toBeLessThan(0.02);
    expect(flowError(await solve("dpmpp-2m", 20))).toBeLessThan(0.025);
    // Doubling the steps divides the error by 2^order. Measured: euler 100 -> 200 NFE 2.00 (0.0111 -> 0.0056);
    // heun 59 -> 119 NFE 4.26 (4.4e-3 -> 1.0e-3); dpmpp-2m 40 -> 80 NFE 3.90 (3.7e-3 -> 9.6e-4).
    const ratio = async (name: SolverName, nfe: number, nfe2: number) =>
      flowError(await solve(name, nfe)) / flowError(await solve(name, nfe2));
    const eulerRatio = await ratio("euler", 100, 200);
    expect(eulerRatio).toBeGreaterThan(1.7);
    expect(eulerRatio).toBeLessThan(2.3);
    for (const [name, nfe, nfe2] of [
      ["heun", 59, 119],
      ["dpmpp-2m", 40, 80],
    ] as const) {
      const r = await ratio(name, nfe, nfe2);
      expect(r, name).toBeGreaterThan(3.2);
      expect(r, name).toBeLessThan(5);
    }
  });

  it("edmStochastic without churn is heun, and dpmpp2mSde with eta = 0 is dpmpp2m", async () => {
    const y = tf.tensor(startValues.subarray(0, 256));
    const sigmas = sigmasFor(8);
    const pairs = [
      [await edmStochastic(exactDenoiser, y, { sigmas, sChurn: 0, seed: 3 }), await heun(exactDenoiser, y, { sigmas })],
      [await dpmpp2mSde(exactDenoiser, y, { sigmas, eta: 0, seed: 3 }), await dpmpp2m(exactDenoiser, y, { sigmas })],
    ];
    for (const [a, b] of pairs) expect(tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([y, ...pairs.flat()]);
  });
});

describe("solver contract (every solver in the catalogue)", () => {
  const entries = Object.values(solvers);
  const small = () => tf.tensor(startValues.subarray(0, 64));

  it("the catalogue: nfe(steps), stepsForNfe the largest steps within an NFE budget", () => {
    expect(Object.keys(solvers).sort()).toEqual(["dpmpp-2m", "dpmpp-2m-sde", "edm-stochastic", "euler", "heun"]);
    expect([solvers.euler.nfe(10), solvers.heun.nfe(10), solvers["edm-stochastic"].nfe(10), solvers["dpmpp-2m"].nfe(10)]).toEqual([10, 19, 19, 10]);
    expect([solvers.euler.stepsForNfe(20), solvers.heun.stepsForNfe(20), solvers.heun.stepsForNfe(35)]).toEqual([20, 10, 18]);
    for (const e of entries) {
      expect(e.stochastic, e.name).toBe(e.name === "edm-stochastic" || e.name === "dpmpp-2m-sde");
      expect(e.reference, e.name).toMatch(/arXiv 22(06\.00364|11\.01095)/);
      for (let nfe = 1; nfe <= 40; nfe++) {
        const steps = e.stepsForNfe(nfe);
        expect(e.nfe(steps)).toBeLessThanOrEqual(nfe);
        expect(e.nfe(steps + 1)).toBeGreaterThan(nfe);
      }
      expect(() => e.nfe(0)).toThrow(/steps must be an integer >= 1, got 0/);
      expect(() => e.stepsForNfe(0.5)).toThrow(/nfe must be an integer >= 1, got 0.5/);
    }
  });

  it("reports every network evaluation: the callback count is the catalogue's nfe(steps)", async () => {
    const y = small();
    for (const e of entries) {
      for (const steps of [1, 2, 5]) {
        const sigmas = sigmasFor(steps);
        const infos: Omit<SolverInfo, "y" | "denoised">[] = [];
        let calls = 0;
        const D: Denoiser = (yy, sigma) => (calls++, exactDenoiser(yy, sigma));
        const out = await e.solve(D, y, {
          sigmas,
          callback: ({ nfe, totalNfe, step, steps: s, sigma, y: yi, denoised }) => {
            expect(yi.shape).toEqual(y.shape);
            expect(denoised.shape).toEqual(y.shape);
            infos.push({ nfe, totalNfe, step, steps: s, sigma });
          },
        });
        const label = `${e.name}, ${steps} steps`;
        expect(infos.length, label).toBe(e.nfe(steps));
        expect(calls, label).toBe(e.nfe(steps));
        expect(infos.map((i) => i.nfe), label).toEqual(Array.from({ length: e.nfe(steps) }, (_, k) => k + 1));
        expect(infos.every((i) => i.totalNfe === e.nfe(steps) && i.steps === steps), label).toBe(true);
        expect(infos.at(-1)?.step, label).toBe(steps);
        expect(infos.every((i) => i.sigma > 0), label).toBe(true);
        // One-evaluation solvers evaluate at sigmas[0..steps-1]; Heun at sigmas[i] and sigmas[i + 1] (churn raises
        // the first of each pair).
        const levels = Array.from(sigmas.subarray(0, steps));
        if (e.nfePerStep === "1") expect(infos.map((i) => i.sigma), label).toEqual(levels);
        if (e.name === "heun" && steps === 2) expect(infos.map((i) => i.sigma)).toEqual([sigmas[0], sigmas[1], sigmas[1]]);
        // The default churn (gamma = sqrt(2) - 1 on [0.05, 50]) raises the first evaluation of every step above 0.05.
        if (e.name === "edm-stochastic") {
          const first = infos.filter((_, k) => k % 2 === 0).map((i) => i.sigma);
          expect(first).toHaveLength(steps);
          levels.forEach((s, k) => expect(first[k], label).toBeCloseTo(s >= 0.05 ? s * Math.SQRT2 : s, 10));
        }
        out.dispose();
      }
    }
    y.dispose();
  });

  it("one step into 0 is the denoiser itself, and a hand-computed Heun step matches", async () => {
    const y = small();
    const D0 = exactDenoiser(y, SIGMA_MAX);
    const oneStep = { sigmas: [SIGMA_MAX, 0], sChurn: 0 }; // no churn: edm-stochastic's one step is then heun's
    for (const e of entries) {
      const out = await e.solve(exactDenoiser, y, oneStep);
      expect(tf.max(tf.abs(tf.sub(out, D0))).dataSync()[0], e.name).toBeLessThan(1e-6);
      out.dispose();
    }
    // Heun from 20 to 5: d = (y - D(y; 20)) / 20, y' = y - 15 d, y_1 = y - 7.5 (d + (y' - D(y'; 5)) / 5).
    const sigmas = [20, 5, 0];
    const one = await heun(exactDenoiser, y, { sigmas, callback: () => undefined });
    const manual = tf.tidy(() => {
      const d = tf.div(tf.sub(y, D0), 20);
      const yEuler = tf.sub(y, tf.mul(15, d));
      const d2 = tf.div(tf.sub(yEuler, exactDenoiser(yEuler, 5)), 5);
      return exactDenoiser(tf.sub(y, tf.mul(7.5, tf.add(d, d2))), 5);
    });
    expect(tf.max(tf.abs(tf.sub(one, manual))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([y, D0, one, manual]);
  });

  it("hand-computed steps of DPM-Solver++(2M), its SDE and EDM's churn match (uneven steps, known noise streams)", async () => {
    const y = small();
    const D = exactDenoiser;
    const z = (stream: number) => tf.tensor(normalArray(y.size, 5, stream), y.shape);
    const close = async (got: Promise<tf.Tensor>, want: tf.Tensor, label: string) => {
      const g = await got;
      expect(tf.max(tf.abs(tf.sub(g, want))).dataSync()[0], label).toBeLessThan(1e-4);
      tf.dispose([g, want]);
    };
    // DPM-Solver++(2M) on 20, 5, 2, 0: h_0 = log 4, h_1 = log 2.5, r = h_0 / h_1.
    const r = Math.log(4) / Math.log(2.5);
    await close(
      dpmpp2m(D, y, { sigmas: [20, 5, 2, 0] }),
      tf.tidy(() => {
        const d0 = D(y, 20);
        const y1 = tf.add(tf.mul(0.25, y), tf.mul(0.75, d0));
        const d1 = D(y1, 5);
        const dHat = tf.sub(tf.mul(1 + 1 / (2 * r), d1), tf.mul(1 / (2 * r), d0));
        return D(tf.add(tf.mul(0.4, y1), tf.mul(0.6, dHat)), 2);
      }),
      "dpmpp2m",
    );
    // Its SDE with eta = 0.7, seed 5: noise stream i on step i.
    const eta = 0.7;
    await close(
      dpmpp2mSde(D, y, { sigmas: [20, 5, 2, 0], eta, seed: 5 }),
      tf.tidy(() => {
        const [h0, h1] = [Math.log(4), Math.log(2.5)];
        const d0 = D(y, 20);
        const y1 = tf.addN([
          tf.mul(0.25 * Math.exp(-eta * h0), y),
          tf.mul(1 - Math.exp(-(1 + eta) * h0), d0),
          tf.mul(5 * Math.sqrt(1 - Math.exp(-2 * eta * h0)), z(0)),
        ]);
        const d1 = D(y1, 5);
        const a = 1 - Math.exp(-(1 + eta) * h1);
        const y2 = tf.addN([
          tf.mul(0.4 * Math.exp(-eta * h1), y1),
          tf.mul(a, d1),
          tf.mul(a / (2 * r), tf.sub(d1, d0)),
          tf.mul(2 * Math.sqrt(1 - Math.exp(-2 * eta * h1)), z(1)),
        ]);
        return D(y2, 2);
      }),
      "dpmpp2mSde",
    );
    // EDM Algorithm 2 on 20, 5, 0 with sChurn 0.5 (gamma = 0.25), sNoise 1.5: churn 20 -> 25, Heun to 5,
    // churn 5 -> 6.25, Euler into 0.
    await close(
      edmStochastic(D, y, { sigmas: [20, 5, 0], sChurn: 0.5, sNoise: 1.5, seed: 5 }),
      tf.tidy(() => {
        const yHat = tf.add(y, tf.mul(1.5 * Math.sqrt(25 ** 2 - 20 ** 2), z(0)));
        const d = tf.div(tf.sub(yHat, D(yHat, 25)), 25);
        const yEuler = tf.sub(yHat, tf.mul(20, d));
        const d2 = tf.div(tf.sub(yEuler, D(yEuler, 5)), 5);
        const y1 = tf.sub(yHat, tf.mul(10, tf.add(d, d2)));
        return D(tf.add(y1, tf.mul(1.5 * Math.sqrt(6.25 ** 2 - 5 ** 2), z(1))), 6.25);
      }),
      "edmStochastic",
    );
    y.dispose();
  });

  it("deterministic solvers repeat exactly and ignore seed; stochastic ones repeat for a seed and differ for another", async () => {
    const y = small();
    const sigmas = sigmasFor(6);
    for (const e of entries) {
      const a = await e.solve(exactDenoiser, y, { sigmas, seed: 7 });
      const b = await e.solve(exactDenoiser, y, { sigmas, seed: 7 });
      const c = await e.solve(exactDenoiser, y, { sigmas, seed: 8 });
      const d = await e.solve(exactDenoiser, y, { sigmas });
      expect(Array.from(a.dataSync()), e.name).toEqual(Array.from(b.dataSync()));
      if (e.stochastic) {
        expect(Array.from(a.dataSync()), e.name).not.toEqual(Array.from(c.dataSync()));
        expect(Array.from(a.dataSync()), e.name).not.toEqual(Array.from(d.dataSync()));
      } else {
        expect(Array.from(a.dataSync()), e.name).toEqual(Array.from(c.dataSync()));
      }
      tf.dispose([a, b, c, d]);
    }
    y.dispose();
  });

  it("is shape-agnostic: a [2, 3, 4, 1] batch gives the same values as its flat [24] version", async () => {
    const flat = tf.tensor(startValues.subarray(0, 24));
    const shaped = tf.reshape(flat, [2, 3, 4, 1]);
    const D: Denoiser = (y, sigma) => tf.reshape(exactDenoiser(tf.reshape(y, [-1]), sigma), y.shape);
    for (const e of entries) {
      const a = await e.solve(D, flat, { sigmas: sigmasFor(4), seed: 2 });
      const b = await e.solve(D, shaped, { sigmas: sigmasFor(4), seed: 2 });
      expect(b.shape).toEqual([2, 3, 4, 1]);
      expect(Array.from(b.dataSync()), e.name).toEqual(Array.from(a.dataSync()));
      tf.dispose([a, b]);
    }
    tf.dispose([flat, shaped]);
  });

  it("leaks no tensors, never disposes y, and returns a new tensor, even when D returns its input or a kept tensor", async () => {
    const y = small();
    const kept = tf.zerosLike(y);
    const before = tf.memory().numTensors;
    for (const e of entries) {
      for (const D of [exactDenoiser, (yy: tf.Tensor) => yy, () => kept] as Denoiser[]) {
        const out = await e.solve(D, y, { sigmas: sigmasFor(30), seed: 1, callback: () => undefined });
        expect(out).not.toBe(y);
        expect(out.isDisposed).toBe(false);
        out.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(y.isDisposed).toBe(false);
    expect(kept.isDisposed).toBe(false);
    tf.dispose([y, kept]);
  });

  it("rejects bad input with errors that name the function and the argument, and leaks nothing", async () => {
    const y = small();
    const integers = tf.tensor([1, 2], [2], "int32");
    const before = tf.memory().numTensors;
    const fns = { euler, heun, edmStochastic, dpmpp2m, dpmpp2mSde };
    for (const [fn, solver] of Object.entries(fns)) {
      const bad = (o: object, message: RegExp, yy: unknown = y, D: unknown = exactDenoiser) =>
        expect((solver as (...a: unknown[]) => Promise<tf.Tensor>)(D, yy, o), fn).rejects.toThrow(
          new RegExp(`^${fn}: ${message.source}`),
        );
      await bad({ sigmas: [5, 6, 1, 0] }, /sigmas must fall strictly; sigmas\[0\] = 5, sigmas\[1\] = 6/);
      await bad({ sigmas: [5, 1, 1, 0] }, /sigmas must fall strictly; sigmas\[1\] = 1, sigmas\[2\] = 1/);
      await bad({ sigmas: [5, 1, 0.1] }, /sigmas must end at exactly 0, got sigmas\[2\] = 0.1/);
      await bad({ sigmas: [5, 0, -1] }, /sigmas must end at exactly 0, got sigmas\[2\] = -1/);
      await bad({ sigmas: [5, Number.NaN, 0] }, /sigmas must be finite numbers; sigmas\[1\] = NaN/);
      await bad({ sigmas: [Infinity, 1, 0] }, /sigmas must be finite numbers; sigmas\[0\] = Infinity/);
      await bad({ sigmas: [0] }, /sigmas must hold steps \+ 1 >= 2 noise levels, got 1/);
      await bad({}, /sigmas must be an array of steps \+ 1 noise levels/);
      await bad({ sigmas: sigmasFor(3) }, /y must have dtype float32, got int32/, integers);
      await bad({ sigmas: sigmasFor(3) }, /y must be a tf.Tensor, got object/, [1, 2]);
      await bad({ sigmas: sigmasFor(3) }, /D must be a denoiser function/, y, "heun");
      // The check holds on every call: this denoiser is right twice, then returns the wrong shape.
      let calls = 0;
      const flaky: Denoiser = (yy, sigma) => (++calls > 2 ? tf.sum(yy) : exactDenoiser(yy, sigma));
      await bad({ sigmas: sigmasFor(5) }, /D\(y, sigma\) must return a float32 tensor of y's shape \[64\], got a float32 tensor of shape \[\] at sigma = /, y, flaky);
      await bad({ sigmas: sigmasFor(3) }, /D\(y, sigma\) must return a float32 tensor .* got a int32 tensor/, y, (yy: tf.Tensor) => tf.cast(yy, "int32"));
    }
    await expect(edmStochastic(exactDenoiser, y, { sigmas: sigmasFor(3), sChurn: -1 })).rejects.toThrow(/^edmStochastic: sChurn must be/);
    await expect(edmStochastic(exactDenoiser, y, { sigmas: sigmasFor(3), sTmin: 2, sTmax: 1 })).rejects.toThrow(/^edmStochastic: sTmin and sTmax/);
    await expect(dpmpp2mSde(exactDenoiser, y, { sigmas: sigmasFor(3), eta: Number.NaN })).rejects.toThrow(/^dpmpp2mSde: eta must be/);
    await expect(dpmpp2mSde(exactDenoiser, y, { sigmas: sigmasFor(3), seed: 1.5 })).rejects.toThrow(/^dpmpp2mSde: seed must be an integer, got 1.5/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, integers]);
  });

  it("stops on an AbortSignal between network evaluations (inside a Heun step too) and leaks nothing", async () => {
    const y = small();
    const before = tf.memory().numTensors;
    for (const e of entries) {
      const controller = new AbortController();
      const seen: number[] = [];
      const run = e.solve(exactDenoiser, y, {
        sigmas: sigmasFor(10),
        signal: controller.signal,
        callback: (i) => {
          seen.push(i.nfe);
          // After the 2nd evaluation: between the two evaluations of Heun's first step.
          if (i.nfe === 2) controller.abort(new Error("stop here"));
        },
      });
      await expect(run, e.name).rejects.toThrow("stop here");
      expect(seen, e.name).toEqual([1, 2]);
      let calls = 0;
      const counted: Denoiser = (yy, s) => (calls++, exactDenoiser(yy, s));
      await expect(e.solve(counted, y, { sigmas: sigmasFor(3), signal: AbortSignal.abort(new Error("already")) })).rejects.toThrow("already");
      expect(calls).toBe(0);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(y.isDisposed).toBe(false);
    y.dispose();
  });

  it("yields to the event loop, so that a timer can abort a long run", async () => {
    const y = tf.tensor(startValues);
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error("timer")), 100);
    // 5,000 steps on 20,000 samples take several seconds; the abort lands within about 50 ms of the timer.
    await expect(euler(exactDenoiser, y, { sigmas: sigmasFor(5000), signal: controller.signal })).rejects.toThrow("timer");
    expect(performance.now() - started).toBeLessThan(1500);
    y.dispose();
  });

  it("is typed by the catalogue: each entry takes its own options", async () => {
    const y = small();
    const sigmas = sigmasFor(2);
    const name = "dpmpp-2m-sde" as SolverName;
    // Any entry takes the shared options.
    const a = await solvers[name].solve(exactDenoiser, y, { sigmas });
    const b = await solvers["dpmpp-2m-sde"].solve(exactDenoiser, y, { sigmas, eta: 0.5 });
    // @ts-expect-error eta is an option of the SDE solver only
    const c = await solvers.euler.solve(exactDenoiser, y, { sigmas, eta: 0.5 });
    tf.dispose([y, a, b, c]);
  });
});
