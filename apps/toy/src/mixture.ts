import * as tf from "@tensorflow/tfjs-core";
import { normalArray, uniformArray, type GBM } from "@dale/sde";
import type { DiagonalMixture } from "@dale/scores";

/**
 * The paper's 1-D toy data: log X_0 ~ 0.5 N(0.1, 0.05^2) + 0.5 N(0.6, 0.08^2), a mixture of two log-normals.
 * `lognormalMixtureScore(sde, TOY_MIXTURE)` gives its exact score at every t.
 */
export const TOY_MIXTURE = {
  weights: [0.5, 0.5],
  means: [[0.1], [0.6]],
  stds: [[0.05], [0.08]],
} as const satisfies DiagonalMixture;

/** The forward process of the toy: GBM with sigma = 0.8, mu = 0.32 on [0, 1], so log X_T has m = 0, v = 0.64. */
export const TOY_SDE = { sigma: 0.8, mu: 0.32, T: 1 } as const;

/** The threshold of the reported probability P(log X < 0.35): the midpoint between the modes' log-means. */
export const LOG_THRESHOLD = 0.35;

/**
 * Random streams of the toy's own draws. The samplers draw their noise from streams 0, 1, ..., (number of updates - 1)
 * of the same seed, so these sit far above any step count to keep the start and the data independent of that noise.
 */
export const STREAMS = {
  dataComponent: 2_000_000_001,
  dataNoise: 2_000_000_002,
  priorComponent: 2_000_000_003,
  priorNoise: 2_000_000_004,
} as const;

/** A shift m and an extra variance v applied to every component of log X: log X_t has m = m(t), v = v(t) of GBM. */
export interface LogShift {
  shift: number;
  extraVar: number;
}

function checkMixture1D(mixture: DiagonalMixture, fn: string): void {
  const K = mixture.weights.length;
  if (K === 0 || mixture.means.length !== K || mixture.stds.length !== K) {
    throw new Error(`${fn}: mixture needs as many means and stds as weights (${K}).`);
  }
  for (let k = 0; k < K; k++) {
    if (mixture.means[k]?.length !== 1 || mixture.stds[k]?.length !== 1) {
      throw new Error(`${fn}: only 1-D mixtures are supported; component ${k} is not 1-D.`);
    }
  }
}

/**
 * n seeded draws of log X where log X ~ sum_k w_k N(m_k + shift, s_k^2 + extraVar). Components come from
 * `uniformArray(n, seed, componentStream)`, the Gaussian part from `normalArray(n, seed, noiseStream)`.
 */
export function sampleLogMixture(
  mixture: DiagonalMixture,
  n: number,
  seed: number,
  streams: { component: number; noise: number },
  at: LogShift = { shift: 0, extraVar: 0 },
): Float64Array {
  checkMixture1D(mixture, "sampleLogMixture");
  if (!Number.isInteger(n) || n < 0) throw new Error(`sampleLogMixture: n must be a non-negative integer, got ${n}.`);
  const u = uniformArray(n, seed, streams.component);
  const z = normalArray(n, seed, streams.noise);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of mixture.weights) cumulative.push((acc += w));
  const locs = mixture.means.map((m) => (m[0] as number) + at.shift);
  const scales = mixture.stds.map((s) => Math.sqrt((s[0] as number) ** 2 + at.extraVar));
  const out = new Float64Array(n);
  const last = mixture.weights.length - 1;
  for (let i = 0; i < n; i++) {
    let k = 0;
    while (k < last && (u[i] as number) >= (cumulative[k] as number)) k++;
    out[i] = (locs[k] as number) + (scales[k] as number) * (z[i] as number);
  }
  return out;
}

/** n fresh draws of log X_0 from the toy data (independent of the prior's draws for the same seed). */
export function sampleDataLog(n: number, seed: number, mixture: DiagonalMixture = TOY_MIXTURE): Float64Array {
  return sampleLogMixture(mixture, n, seed, { component: STREAMS.dataComponent, noise: STREAMS.dataNoise });
}

/** n draws of log X_T from the exact marginal p_T of GBM started at the mixture: m = sde.logMean(T), v = sde.logVariance(T). */
export function sampleExactPriorLog(sde: GBM, n: number, seed: number, mixture: DiagonalMixture = TOY_MIXTURE): Float64Array {
  return sampleLogMixture(mixture, n, seed, { component: STREAMS.priorComponent, noise: STREAMS.priorNoise }, {
    shift: sde.logMean(sde.T),
    extraVar: sde.logVariance(sde.T),
  });
}

/** X_T drawn from the exact p_T, as a float32 tensor of shape [n, 1] (the caller disposes it). */
export function sampleExactPrior(sde: GBM, n: number, seed: number, mixture: DiagonalMixture = TOY_MIXTURE): tf.Tensor2D {
  const logs = sampleExactPriorLog(sde, n, seed, mixture);
  return tf.tensor2d(Float32Array.from(logs, Math.exp), [n, 1], "float32");
}

/** Exact mean, standard deviation and fourth central moment of log X ~ sum_k w_k N(m_k + shift, s_k^2 + extraVar). */
export function mixtureLogMoments(
  mixture: DiagonalMixture,
  at: LogShift = { shift: 0, extraVar: 0 },
): { mean: number; std: number; m4: number } {
  checkMixture1D(mixture, "mixtureLogMoments");
  const comps = mixture.weights.map((w, k) => ({
    w,
    m: (mixture.means[k]?.[0] as number) + at.shift,
    v: (mixture.stds[k]?.[0] as number) ** 2 + at.extraVar,
  }));
  const mean = comps.reduce((s, c) => s + c.w * c.m, 0);
  const variance = comps.reduce((s, c) => s + c.w * (c.v + (c.m - mean) ** 2), 0);
  const m4 = comps.reduce((s, c) => {
    const d = c.m - mean;
    return s + c.w * (d ** 4 + 6 * d * d * c.v + 3 * c.v * c.v);
  }, 0);
  return { mean, std: Math.sqrt(variance), m4 };
}

/** Exact P(log X < threshold) under the mixture. */
export function mixtureLogCdf(mixture: DiagonalMixture, threshold: number, at: LogShift = { shift: 0, extraVar: 0 }): number {
  checkMixture1D(mixture, "mixtureLogCdf");
  return mixture.weights.reduce((s, w, k) => {
    const m = (mixture.means[k]?.[0] as number) + at.shift;
    const sd = Math.sqrt((mixture.stds[k]?.[0] as number) ** 2 + at.extraVar);
    return s + w * normalCdf((threshold - m) / sd);
  }, 0);
}

/** Standard-normal CDF, Phi(z) = erfc(-z / sqrt 2) / 2, to about 1e-7 relative accuracy. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
