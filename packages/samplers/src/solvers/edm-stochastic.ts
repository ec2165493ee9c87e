import type * as tf from "@tensorflow/tfjs-core";
import { addScaledNoise, checkSeed, heunNfe, integrate, sigmaHeunStep } from "./integrate";
import type { Denoiser, SolverOptions } from "./types";

/** Options of {@link edmStochastic}: EDM's Algorithm 2 parameters (Karras et al. 2022, section 4 and Table 5). */
export interface EdmStochasticOptions extends SolverOptions {
  /**
   * Overall amount of churn S_churn: each step with sTmin <= sigma_i <= sTmax first raises the noise level by a factor
   * 1 + gamma, gamma = min(sChurn / steps, sqrt(2) - 1). Default 40, with sTmin 0.05 and sTmax 50: EDM's ImageNet-64
   * setting (its README runs it with 256 steps, gamma 0.16; below 97 steps gamma is the maximum). 0 gives `heun`.
   */
  sChurn?: number;
  /** Churn only where sigma_i >= sTmin. Default 0.05. */
  sTmin?: number;
  /** Churn only where sigma_i <= sTmax. Default 50. */
  sTmax?: number;
  /**
   * Scale of the added noise, S_noise. Default 1 (k-diffusion's); EDM uses 1.003 to 1.007 to offset the loss of
   * detail that a trained denoiser causes.
   */
  sNoise?: number;
}

/**
 * EDM's stochastic sampler: Algorithm 2 of Karras et al. (2022), arXiv 2206.00364 (k-diffusion's `sample_heun` with
 * `s_churn`). Each step first adds noise to raise the level from sigma_i to sigma_hat ("churn"), then takes a Heun
 * step from sigma_hat to sigma_{i+1}:
 *
 *     gamma_i = min(sChurn / steps, sqrt(2) - 1) if sTmin <= sigma_i <= sTmax, else 0
 *     sigma_hat = (1 + gamma_i) sigma_i,   y_hat = y_i + sqrt(sigma_hat^2 - sigma_i^2) sNoise Z_i
 *     y_{i+1} = Heun step of `heun` from (y_hat, sigma_hat) to sigma_{i+1} (Euler into 0)
 *
 * Z_i ~ N(0, I) is drawn from `seed` with stream i. Network evaluations: 2 steps - 1.
 *
 * @returns a new tensor: the state at noise level 0, with y's shape
 */
export async function edmStochastic(D: Denoiser, y: tf.Tensor, o: EdmStochasticOptions): Promise<tf.Tensor> {
  const fn = "edmStochastic";
  const { sChurn = 40, sTmin = 0.05, sTmax = 50, sNoise = 1 } = o;
  const seed = checkSeed(o.seed, fn);
  if (!(sChurn >= 0 && Number.isFinite(sChurn))) throw new Error(`${fn}: sChurn must be a finite number >= 0, got ${sChurn}.`);
  if (!(sTmin >= 0 && sTmax >= sTmin)) throw new Error(`${fn}: sTmin and sTmax must satisfy 0 <= sTmin <= sTmax, got ${sTmin} and ${sTmax}.`);
  if (!(sNoise >= 0 && Number.isFinite(sNoise))) throw new Error(`${fn}: sNoise must be a finite number >= 0, got ${sNoise}.`);
  return integrate(fn, D, y, o, heunNfe, (yi, { i, steps, sigma, sigmaNext, evaluate }) => {
    const gamma = sigma >= sTmin && sigma <= sTmax ? Math.min(sChurn / steps, Math.SQRT2 - 1) : 0;
    if (gamma === 0) return sigmaHeunStep(yi, sigma, sigmaNext, evaluate);
    const sigmaHat = (1 + gamma) * sigma;
    const yHat = addScaledNoise(yi, sNoise * Math.sqrt(sigmaHat ** 2 - sigma ** 2), seed, i);
    return sigmaHeunStep(yHat, sigmaHat, sigmaNext, evaluate);
  });
}
