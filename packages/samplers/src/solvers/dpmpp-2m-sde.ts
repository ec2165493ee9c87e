import type * as tf from "@tensorflow/tfjs-core";
import { multistep2m } from "./dpmpp-2m";
import { checkSeed } from "./integrate";
import type { Denoiser, SolverOptions } from "./types";

/** Options of {@link dpmpp2mSde}. */
export interface Dpmpp2mSdeOptions extends SolverOptions {
  /** Stochasticity eta >= 0: 0 is the ODE solver `dpmpp2m`, 1 (the default) the reverse SDE's own noise. */
  eta?: number;
}

/**
 * DPM-Solver++(2M) SDE with the midpoint correction (k-diffusion's `sample_dpmpp_2m_sde`, `solver_type="midpoint"`;
 * Lu et al. 2022, arXiv 2211.01095, section 5): the multistep update of `dpmpp2m` for the reverse SDE, exact in
 * its linear part, with h_i = log(sigma_i / sigma_{i+1}), r_i = h_{i-1} / h_i:
 *
 *     y_{i+1} = (sigma_{i+1} / sigma_i) e^(-eta h_i) y_i + (1 - e^(-(1 + eta) h_i)) D_i
 *               + (1 - e^(-(1 + eta) h_i)) / (2 r_i) (D_i - D_{i-1})
 *               + sigma_{i+1} sqrt(1 - e^(-2 eta h_i)) Z_i
 *
 * (no D_{i-1} term on the first step), and the last step returns D(y; sigma_{steps-1}). Z_i ~ N(0, I) is Gaussian
 * noise drawn from `seed` with stream i (k-diffusion draws it from a Brownian tree; the law per step is the same).
 * eta = 0 gives `dpmpp2m`. Network evaluations: steps.
 *
 * @returns a new tensor: the state at noise level 0, with y's shape
 */
export async function dpmpp2mSde(D: Denoiser, y: tf.Tensor, o: Dpmpp2mSdeOptions): Promise<tf.Tensor> {
  const fn = "dpmpp2mSde";
  const { eta = 1 } = o;
  if (!(eta >= 0 && Number.isFinite(eta))) throw new Error(`${fn}: eta must be a finite number >= 0, got ${eta}.`);
  return multistep2m(fn, D, y, o, eta, checkSeed(o.seed, fn));
}
