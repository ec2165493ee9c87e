import type * as tf from "@tensorflow/tfjs-core";
import { heunNfe, integrate, sigmaHeunStep } from "./integrate";
import type { Denoiser, SolverOptions } from "./types";

/**
 * Heun's method for the probability-flow ODE: Algorithm 1 of Karras et al. (2022), arXiv 2206.00364 (k-diffusion's
 * `sample_heun` without churn). Second order. Each step takes an Euler predictor and a trapezoidal corrector,
 *
 *     d_i = (y_i - D(y_i; sigma_i)) / sigma_i,   y' = y_i + (sigma_{i+1} - sigma_i) d_i,
 *     d'_i = (y' - D(y'; sigma_{i+1})) / sigma_{i+1},   y_{i+1} = y_i + (sigma_{i+1} - sigma_i) (d_i + d'_i) / 2,
 *
 * except the last step, into sigma = 0 where D is never queried, which is the Euler step alone.
 * Network evaluations: 2 steps - 1.
 *
 * @returns a new tensor: the state at noise level 0, with y's shape
 * @example
 * const y0 = await heun(D, yT, { sigmas: karrasSigmas(18, { sigmaMin: 0.002, sigmaMax: 80 }) }); // 35 NFE
 */
export async function heun(D: Denoiser, y: tf.Tensor, o: SolverOptions): Promise<tf.Tensor> {
  return integrate("heun", D, y, o, heunNfe, (yi, { sigma, sigmaNext, evaluate }) => sigmaHeunStep(yi, sigma, sigmaNext, evaluate));
}
