import type * as tf from "@tensorflow/tfjs-core";

// Solvers in sigma space (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models",
// arXiv 2206.00364, section 2). Every process here is, in its denoising coordinates y, the variance-exploding
//
//     y_sigma = y_0 + sigma Z,   Z ~ N(0, I),
//
// whose probability-flow ODE (EDM eq. 1 with sigma(t) = t, s(t) = 1) is
//
//     dy / dsigma = (y - D(y; sigma)) / sigma,   D(y; sigma) = E[y_0 | y_sigma = y].
//
// The solvers integrate that ODE (or a matching SDE) from sigmas[0] down to 0 and know nothing of the process; a
// process adapter (`solveProcess`) maps x <-> y (for GBM, y = log x, so every solver keeps signs once x = exp(y)). Like
// k-diffusion's `sample_*` and diffusers' schedulers, they take the network as a function and the noise levels as data.

/**
 * The denoiser D(y; sigma) = E[y_0 | y_sigma = y] at noise level `sigma` > 0 (the solvers never call it at 0). It
 * must return a float32 tensor of y's shape. It runs inside the solver's `tf.tidy`, so it need not tidy itself.
 */
export type Denoiser = (y: tf.Tensor, sigma: number) => tf.Tensor;

/** What a solver reports after each network evaluation. `y` and `denoised` are lent: read them, do not dispose them. */
export interface SolverInfo {
  /** Network evaluations so far, 1-based. */
  nfe: number;
  /** Network evaluations this call will make: `solvers[name].nfe(steps)`. */
  totalNfe: number;
  /** The step (1-based) the evaluation belongs to; step k goes from sigmas[k - 1] to sigmas[k]. */
  step: number;
  /** Number of steps, sigmas.length - 1. */
  steps: number;
  /** The noise level of this evaluation (above sigmas[step - 1] when EDM's churn raised it). */
  sigma: number;
  /** The state at which the denoiser was evaluated. */
  y: tf.Tensor;
  /** The denoiser's output there, a preview of the final sample. */
  denoised: tf.Tensor;
}

/** Options shared by every solver. */
export interface SolverOptions {
  /**
   * The steps + 1 noise levels to visit, falling strictly from sigmas[0] to exactly 0, all finite; e.g.
   * `karrasSigmas`. The solver starts from y at noise level sigmas[0].
   */
  sigmas: ArrayLike<number>;
  /** Called after every network evaluation (progress per NFE). */
  callback?: (info: SolverInfo) => void;
  /** Stops the solver between network evaluations; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Seed of the injected noise (stochastic solvers only; the others ignore it). Default 0. */
  seed?: number;
}
