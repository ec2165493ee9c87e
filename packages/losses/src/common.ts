import * as tf from "@tensorflow/tfjs-core";
import { normalArray, timeAtNoiseLevel, uniformArray, type SDE } from "@dale/sde";

/**
 * A score network as the losses see it: `(x, t)` with one time per sample, `t` of shape `[batch]`. It returns the
 * Stein score grad_x log p_t(x) unless tagged `kind: "hyvarinen"`, in which case it returns x * grad_x log p_t(x)
 * directly (often the better-conditioned output for multiplicative diffusion).
 */
export type BatchScoreFn = ((x: tf.Tensor, t: tf.Tensor) => tf.Tensor) & { readonly kind?: "stein" | "hyvarinen" };

/** Per-sample losses (`"none"`, shape `[batch]`) or their mean (`"mean"`, a scalar, the default). */
export type Reduction = "mean" | "none";

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

/** Resolves the draws of one loss evaluation; tensors it creates are returned in `owned` for disposal. */
export function resolveDraws(x0: tf.Tensor, T: number, draws: Draws, fn: string): { t: tf.Tensor; noise: tf.Tensor; owned: tf.Tensor[] } {
  const batch = x0.shape[0];
  if (x0.rank < 1 || batch === undefined) throw new Error(`${fn}: x0 must be [batch, ...], got shape [${x0.shape}].`);
  if ((draws.t === undefined || draws.noise === undefined) && draws.seed === undefined) {
    throw new Error(`${fn}: give a seed (a new one per training step), or both t and noise.`);
  }
  const owned: tf.Tensor[] = [];
  let t = draws.t;
  if (t === undefined) {
    t = sampleTimes(batch, { T, seed: draws.seed as number, eps: draws.eps });
    owned.push(t);
  } else if (t.rank !== 1 || t.shape[0] !== batch) {
    throw new Error(`${fn}: t must have shape [${batch}] (one time per sample), got [${t.shape}].`);
  }
  let noise = draws.noise;
  if (noise === undefined) {
    noise = tf.tensor(normalArray(x0.size, draws.seed as number, 0), x0.shape);
    owned.push(noise);
  } else if (!tf.util.arraysEqual(noise.shape, x0.shape)) {
    throw new Error(`${fn}: noise must have x0's shape [${x0.shape}], got [${noise.shape}].`);
  }
  return { t, noise, owned };
}

/** Sums a per-element loss over all axes but the first, then reduces over the batch. */
export function reduce(perElement: tf.Tensor, reduction: Reduction): tf.Tensor {
  const axes = perElement.shape.map((_, i) => i).slice(1);
  const perSample = axes.length > 0 ? tf.sum(perElement, axes) : perElement;
  return reduction === "none" ? perSample : tf.mean(perSample);
}

/** x * model(x, t): the Hyvarinen score of the model, whichever output it declares. */
export function modelHyvarinen(model: BatchScoreFn, x: tf.Tensor, t: tf.Tensor, fn: string): tf.Tensor {
  const out = model(x, t);
  if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, x.shape)) {
    throw new Error(`${fn}: model(x, t) must return a tensor of x's shape [${x.shape}], got ${out instanceof tf.Tensor ? `[${out.shape}]` : typeof out}.`);
  }
  return model.kind === "hyvarinen" ? out : tf.mul(x, out);
}

