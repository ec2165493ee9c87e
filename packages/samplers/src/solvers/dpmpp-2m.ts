import * as tf from "@tensorflow/tfjs-core";
import { addScaledNoise, eulerNfe, integrate } from "./integrate";
import type { Denoiser, SolverOptions } from "./types";

/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv 2211.01095, Algorithm 2; k-diffusion's `sample_dpmpp_2m`): a second-order
 * multistep solver of the probability-flow ODE in lambda = -log sigma, which integrates the linear part exactly and
 * extrapolates the denoiser linearly from the previous step. With h_i = log(sigma_i / sigma_{i+1}) and
 * r_i = h_{i-1} / h_i,
 *
 *     y_{i+1} = (sigma_{i+1} / sigma_i) y_i + (1 - sigma_{i+1} / sigma_i) D_hat_i,
 *     D_hat_i = (1 + 1 / (2 r_i)) D_i - D_{i-1} / (2 r_i),   D_i = D(y_i; sigma_i),
 *
 * with D_hat = D_i on the first step (first order) and on the last, which returns D(y; sigma_{steps-1}).
 * Network evaluations: steps.
 *
 * @returns a new tensor: the state at noise level 0, with y's shape
 * @example
 * const y0 = await dpmpp2m(D, yT, { sigmas: karrasSigmas(20, { sigmaMin: 0.002, sigmaMax: 80 }) }); // 20 NFE
 */
export async function dpmpp2m(D: Denoiser, y: tf.Tensor, o: SolverOptions): Promise<tf.Tensor> {
  return multistep2m("dpmpp2m", D, y, o, 0, 0);
}

/**
 * The DPM-Solver++(2M) update with stochasticity eta (see `dpmpp2mSde`, which this is with eta > 0); eta = 0 is
 * {@link dpmpp2m}.
 */
export function multistep2m(fn: string, D: Denoiser, y: tf.Tensor, o: SolverOptions, eta: number, seed: number): Promise<tf.Tensor> {
  return integrate(fn, D, y, o, eulerNfe, (yi, { i, sigmas, sigma, sigmaNext, evaluate, carry }) => {
    const denoised = evaluate(yi, sigma);
    if (sigmaNext === 0) return denoised;
    const h = Math.log(sigma / sigmaNext);
    const a = -Math.expm1(-(1 + eta) * h); // 1 - e^(-(1 + eta) h)
    let next = tf.add(tf.mul((sigmaNext / sigma) * Math.exp(-eta * h), yi), tf.mul(a, denoised));
    if (carry) {
      const r = Math.log((sigmas[i - 1] as number) / sigma) / h;
      next = tf.add(next, tf.mul(a / (2 * r), tf.sub(denoised, carry)));
    }
    if (eta > 0) next = addScaledNoise(next, sigmaNext * Math.sqrt(-Math.expm1(-2 * eta * h)), seed, i);
    return { y: next, carry: denoised };
  });
}
