import type * as tf from "@tensorflow/tfjs-core";
import type { ScheduleJSON } from "./schedule";
import type { Time } from "./time";

export type { Time };

/**
 * A Stein score function: `score(x, t)` returns grad_x log p_t(x), with x's shape.
 *
 * This is the contract every sampler relies on. A function tagged `kind: "hyvarinen"` (see `@dale/scores`) is not a
 * Stein score, and the type rejects it; convert it first.
 */
export type ScoreFn = ((x: tf.Tensor, t: number) => tf.Tensor) & { readonly kind?: "stein" };

/**
 * A score network as training sees it: `(x, t)` with one time per sample, `t` of shape `[batch]`. It returns the
 * Stein score grad_x log p_t(x) unless tagged `kind: "hyvarinen"`, in which case it returns x * grad_x log p_t(x)
 * directly (often the better-conditioned output for multiplicative diffusion). `@dale/losses` takes it and
 * `toLossModel` of `@dale/models` makes one from a network.
 */
export type BatchScoreFn = ((x: tf.Tensor, t: tf.Tensor) => tf.Tensor) & { readonly kind?: "stein" | "hyvarinen" };

/** The family of a marginal p(x_t | x_0), with its parameters broadcast to x_0's shape. */
export type Marginal =
  /** log X_t ~ N(loc, scale^2), elementwise. */
  | { readonly family: "lognormal"; readonly loc: tf.Tensor; readonly scale: tf.Tensor }
  /** X_t ~ N(mean, std^2), elementwise. */
  | { readonly family: "normal"; readonly mean: tf.Tensor; readonly std: tf.Tensor };

/** An elementwise prior p_T with parameters over the trailing (per-sample) axes. */
export interface Prior {
  readonly family: "lognormal" | "normal";
  /** Draws `shape[0]` samples; the parameters broadcast over the trailing axes of `shape`. */
  sample(shape: readonly number[], seed: number): tf.Tensor;
  /** log p_T(x) summed over all axes but the first: shape `[batch]`. */
  logProb(x: tf.Tensor): tf.Tensor;
  toJSON(): PriorJSON;
}

export interface PriorJSON {
  family: "lognormal" | "normal";
  /** lognormal: loc of log X; normal: mean. */
  loc: number[];
  /** lognormal: scale of log X; normal: std. */
  scale: number[];
  /** Shape over which loc and scale broadcast against a sample, e.g. `[1]`, `[channels]` or `[h, w, c]`. */
  shape: number[];
}

export type SDEJSON =
  | { kind: "gbm"; mu: ScheduleJSON; sigma: ScheduleJSON; T: number; prior: PriorJSON }
  | { kind: "vp"; beta: ScheduleJSON; T: number }
  | { kind: "ve"; sigmaMin: number; sigmaMax: number; T: number };

/**
 * An Ito SDE with diagonal diffusion, dX = f(X, t) dt + g(X, t) dW on [0, T] (score_sde's `SDE`, as an interface).
 * Concrete SDEs come from factories: `gbm`, `vpSDE`, `veSDE`.
 */
export interface SDE {
  readonly kind: "gbm" | "vp" | "ve";
  /** End time. */
  readonly T: number;
  /** Where the process lives: GBM needs strictly positive data; the additive SDEs take any real data. */
  readonly domain: "positive" | "real";
  /** f(x, t). */
  drift(x: tf.Tensor, t: Time): tf.Tensor;
  /** g(x, t), elementwise (the diffusion matrix is diag(g)). */
  diffusion(x: tf.Tensor, t: Time): tf.Tensor;
  /** div(g g^T)_i = d(g_i^2)/dx_i, the extra drift of the reverse SDE when g depends on x (zero for additive SDEs). */
  diffusionDivergence(x: tf.Tensor, t: Time): tf.Tensor;
  /** The transition p(x_t | x_0) in closed form. */
  marginal(x0: tf.Tensor, t: Time): Marginal;
  /** x_t from x_0 and standard-normal `noise` of x_0's shape: the reparameterised draw from {@link marginal}. */
  perturb(x0: tf.Tensor, noise: tf.Tensor, t: Time): tf.Tensor;
  /**
   * The noise level sigma(t) of Karras et al. (2022, arXiv 2206.00364, eq. 1): the std of the noise in the process's
   * denoising coordinates y, where y_t = y_0 + sigma(t) Z (`noiseCoordinates`). GBM sqrt(v(t)), VP sqrt(e^B(t) - 1),
   * VE sigma(t); increasing in t.
   */
  noiseLevel(t: number): number;
  /**
   * The std of the transition's noise in the process's own Gaussian coordinates: GBM sqrt(v(t)), the std of
   * log X_t given X_0; VP b(t) = sqrt(1 - e^-B(t)) in X_t = a(t) X_0 + b(t) Z; VE sigma(t).
   */
  marginalStd(t: number): number;
  /** The distribution sampling starts from at t = T. */
  readonly prior: Prior;
  toJSON(): SDEJSON;
}
