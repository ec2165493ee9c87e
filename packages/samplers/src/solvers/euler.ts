import type * as tf from "@tensorflow/tfjs-core";
import { eulerNfe, integrate, sigmaEulerStep } from "./integrate";
import type { Denoiser, SolverOptions } from "./types";

/**
 * Euler's method for the probability-flow ODE (k-diffusion's `sample_euler` without churn; Algorithm 1 of Karras et
 * al. (2022), arXiv 2206.00364, without its second-order correction). First order. With sigma_i = sigmas[i]:
 *
 *     d_i = (y_i - D(y_i; sigma_i)) / sigma_i,   y_{i+1} = y_i + (sigma_{i+1} - sigma_i) d_i
 *
 * The last step, into sigma = 0, returns D(y; sigma_{steps-1}). Network evaluations: steps.
 *
 * @param D the denoiser in y coordinates
 * @param y the state at noise level sigmas[0], any shape, float32 (not disposed)
 * @returns a new tensor: the state at noise level 0, with y's shape
 * @example
 * const y0 = await euler(D, yT, { sigmas: karrasSigmas(50, { sigmaMin: 0.002, sigmaMax: 80 }) });
 */
export async function euler(D: Denoiser, y: tf.Tensor, o: SolverOptions): Promise<tf.Tensor> {
  return integrate("euler", D, y, o, eulerNfe, (yi, { sigma, sigmaNext, evaluate }) =>
    sigmaEulerStep(yi, evaluate(yi, sigma), sigma, sigmaNext),
  );
}
