import * as tf from "@tensorflow/tfjs-core";
import { assertNonEmpty, assertOneOf, checkTimes, normalArray, timeAtNoiseLevel, uniformArray, type BatchScoreFn, type SDE } from "@dale/sde";

/** A score network as the losses see it (declared once, in `@dale/sde`). */
export type { BatchScoreFn } from "@dale/sde";

/** Per-sample losses (`"none"`, shape `[batch]`) or their mean (`"mean"`, a scalar, the default). */
export type Reduction = "mean" | "none";

/** The values of {@link Reduction}; any other throws, naming the loss. */
export const REDUCTIONS: readonly Reduction[] = ["mean", "none"];

/** The reduction option with its default, checked: an unknown value throws instead of meaning "mean". */
export function checkReduction(reduction: Reduction | undefined, fn: string): Reduction {
  const r = reduction ?? "mean";
  assertOneOf(r, REDUCTIONS, fn, "reduction");
  return r;
}

/** The kind tag of a model, checked: untagged and `"stein"` are Stein scores; `allowed` lists what else the loss takes. */
export function checkModelKind<K extends "stein" | "hyvarinen">(model: unknown, allowed: readonly K[], fn: string): K {
  if (typeof model !== "function") throw new Error(`${fn}: model must be a function (x, t) => tf.Tensor, got ${typeof model}.`);
  const kind = (model as { readonly kind?: unknown }).kind ?? "stein";
  assertOneOf(kind, allowed, fn, "model.kind");
  return kind;
}

/** Draws of the training randomness: per-sample times and the noise that perturbs x_0. */
export interface Draws {
  /** Per-sample times, `[batch]`. Default: uniform on [eps, T] from `seed`. */
  t?: tf.Tensor;
  /** Standard-normal noise of x_0's shape. Default: drawn from `seed`. */
  noise?: tf.Tensor;
  /** Seed of whatever is not given; required unless both `t` and `noise` are. Use a new one each training step. */
  seed?: number;
  /** Smallest time drawn by default. Default 1e-3 (the reference's t = 1 / N). */
  eps?: number;
}

/**
 * Per-sample training times. Continuous: uniform on [eps, T]. Discrete (`levels: N`): t = k / N * T with k uniform
 * on {1, ..., N - 1}, as the reference implementation draws them.
 */
export function sampleTimes(batch: number, options: { T: number; seed: number; eps?: number; levels?: number }): tf.Tensor {
  const { T, seed, eps = 1e-3, levels } = options;
  const u = uniformArray(batch, seed, 1); // stream 0 is the noise
  if (levels !== undefined) {
    if (!Number.isInteger(levels) || levels < 2) throw new Error(`sampleTimes: levels must be an integer >= 2, got ${levels}.`);
    return tf.tensor1d(Float32Array.from(u, (v) => (T * (1 + Math.min(levels - 2, Math.floor(v * (levels - 1))))) / levels));
  }
  if (!(eps > 0 && eps < T)) throw new Error(`sampleTimes: eps must be in (0, T), got ${eps}.`);
  return tf.tensor1d(Float32Array.from(u, (v) => eps + (T - eps) * v));
}

/** Options of {@link sampleNoiseLevelTimes}. */
export interface NoiseLevelDraws {
  /** The process whose noise level sigma(t) the draws follow (`sde.noiseLevel`). */
  sde: SDE;
  seed: number;
  /** Mean of ln sigma. EDM uses -1.2 for data of std 0.5; scale it with the data: -1.2 + ln(sigma_data / 0.5). */
  pMean: number;
  /** Std of ln sigma. Default 1.2 (EDM). */
  pStd?: number;
  /** Smallest time: draws below sigma(eps) are clipped to it. Default 1e-3 T. */
  eps?: number;
}

/**
 * Per-sample training times with EDM's log-normal noise levels (Karras et al. 2022, Table 1, "p_train"):
 * ln sigma ~ N(pMean, pStd^2), clipped to [sigma(eps), sigma(T)] and mapped to t = sigma^-1(ln sigma), so that
 * training concentrates on the noise levels where the denoiser has most to learn. Returns `[batch]` float32 times.
 *
 * @example
 * const t = sampleNoiseLevelTimes(32, { sde, seed: step, pMean: -1.9 });
 */
export function sampleNoiseLevelTimes(batch: number, options: NoiseLevelDraws): tf.Tensor1D {
  const fn = "sampleNoiseLevelTimes";
  const { sde, seed, pMean, pStd = 1.2 } = options;
  const eps = options.eps ?? 1e-3 * sde.T;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${fn}: batch must be a positive integer, got ${batch}.`);
  if (!Number.isFinite(pMean)) throw new Error(`${fn}: pMean must be a finite number, got ${pMean}.`);
  if (!(pStd >= 0) || !Number.isFinite(pStd)) throw new Error(`${fn}: pStd must be a non-negative number, got ${pStd}.`);
  if (!(eps > 0 && eps < sde.T)) throw new Error(`${fn}: eps must be in (0, T = ${sde.T}), got ${eps}.`);
  const lo = sde.noiseLevel(eps);
  const hi = sde.noiseLevel(sde.T);
  const z = normalArray(batch, seed, 2); // streams 0 and 1 are the noise and the uniform times
  return tf.tensor1d(
    Float32Array.from(z, (zi) => {
      const sigma = Math.min(hi, Math.max(lo, Math.exp(pMean + pStd * zi)));
      return sigma <= lo ? eps : sigma >= hi ? sde.T : timeAtNoiseLevel(sde, sigma);
    }),
  );
}

/**
 * Resolves the draws of one loss evaluation: checks a given `t` (shape `[batch]`, every time in (0, T], since the
 * losses evaluate the network and divide by the noise variance there) and `noise` before creating anything, then draws
 * what is missing. Returns the times as numbers too (read once). Tensors it creates are returned in `owned` for
 * disposal.
 */
export function resolveDraws(
  x0: tf.Tensor,
  T: number,
  draws: Draws,
  fn: string,
): { t: tf.Tensor; times: number[]; noise: tf.Tensor; owned: tf.Tensor[] } {
  const batch = x0.shape[0];
  if (x0.rank < 1 || batch === undefined) throw new Error(`${fn}: x0 must be [batch, ...], got shape [${x0.shape}].`);
  assertNonEmpty(x0, fn, "x0");
  if ((draws.t === undefined || draws.noise === undefined) && draws.seed === undefined) {
    throw new Error(`${fn}: give a seed (a new one per training step), or both t and noise.`);
  }
  let given: number[] | undefined;
  if (draws.t !== undefined) {
    if (!(draws.t instanceof tf.Tensor) || draws.t.rank !== 1 || draws.t.shape[0] !== batch) {
      const got = draws.t instanceof tf.Tensor ? `[${draws.t.shape}]` : typeof draws.t;
      throw new Error(`${fn}: t must have shape [${batch}] (one time per sample), got ${got}.`);
    }
    given = checkTimes(draws.t, { fn, T, min: "positive", batch }) as number[];
  }
  if (draws.noise !== undefined && !(draws.noise instanceof tf.Tensor && tf.util.arraysEqual(draws.noise.shape, x0.shape))) {
    const got = draws.noise instanceof tf.Tensor ? `[${draws.noise.shape}]` : typeof draws.noise;
    throw new Error(`${fn}: noise must have x0's shape [${x0.shape}], got ${got}.`);
  }
  const owned: tf.Tensor[] = [];
  try {
    const t = draws.t ?? sampleTimes(batch, { T, seed: draws.seed as number, eps: draws.eps });
    if (draws.t === undefined) owned.push(t);
    const times = given ?? Array.from(t.dataSync());
    const noise = draws.noise ?? tf.tensor(normalArray(x0.size, draws.seed as number, 0), x0.shape);
    if (draws.noise === undefined) owned.push(noise);
    return { t, times, noise, owned };
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}

/** Sums a per-element loss over all axes but the first, then reduces over the batch (`reduction` already checked). */
export function reduce(perElement: tf.Tensor, reduction: Reduction): tf.Tensor {
  const axes = perElement.shape.map((_, i) => i).slice(1);
  const perSample = axes.length > 0 ? tf.sum(perElement, axes) : perElement;
  return reduction === "none" ? perSample : tf.mean(perSample);
}

/** x * model(x, t): the Hyvarinen score of the model, whichever output it declares (checked by {@link checkModelKind}). */
export function modelHyvarinen(model: BatchScoreFn, x: tf.Tensor, t: tf.Tensor, fn: string): tf.Tensor {
  const out = checkedOutput(model(x, t), x, fn);
  return model.kind === "hyvarinen" ? out : tf.mul(x, out);
}

/** Throws unless a model's output is a float32 tensor of x's shape. */
export function checkedOutput(out: unknown, x: tf.Tensor, fn: string): tf.Tensor {
  if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, x.shape) || out.dtype !== "float32") {
    const got = out instanceof tf.Tensor ? `a ${out.dtype} tensor of shape [${out.shape}]` : typeof out;
    throw new Error(`${fn}: model(x, t) must return a float32 tensor of x's shape [${x.shape}], got ${got}.`);
  }
  return out;
}

/** sqrt(lambda(t)) per sample, checking that the weighting gives a finite lambda >= 0 at every time. */
export function sqrtWeights(times: readonly number[], lambda: (t: number, i: number) => number, fn: string): Float32Array {
  return Float32Array.from(times, (t, i) => {
    const w = lambda(t, i);
    if (!(w >= 0 && w < Infinity)) throw new Error(`${fn}: weighting must return a finite number >= 0, got ${w} at t = ${t}.`);
    return Math.sqrt(w);
  });
}

