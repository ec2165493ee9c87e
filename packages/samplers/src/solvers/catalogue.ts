import type * as tf from "@tensorflow/tfjs-core";
import { dpmpp2m } from "./dpmpp-2m";
import { dpmpp2mSde, type Dpmpp2mSdeOptions } from "./dpmpp-2m-sde";
import { edmStochastic, type EdmStochasticOptions } from "./edm-stochastic";
import { euler } from "./euler";
import { heun } from "./heun";
import { eulerNfe, eulerSteps, heunNfe, heunSteps } from "./integrate";
import type { Denoiser, SolverOptions } from "./types";

/** The solvers by name. */
export type SolverName = "euler" | "heun" | "edm-stochastic" | "dpmpp-2m" | "dpmpp-2m-sde";

/** Each solver's options type. */
export interface SolverOptionsByName {
  euler: SolverOptions;
  heun: SolverOptions;
  "edm-stochastic": EdmStochasticOptions;
  "dpmpp-2m": SolverOptions;
  "dpmpp-2m-sde": Dpmpp2mSdeOptions;
}

/** One entry of the {@link solvers} catalogue. */
export interface SolverEntry<K extends SolverName = SolverName> {
  name: K;
  /** The solver function. */
  solve: (D: Denoiser, y: tf.Tensor, o: SolverOptionsByName[K]) => Promise<tf.Tensor>;
  /** Network evaluations per step, in words. */
  nfePerStep: string;
  /** Order of accuracy of the deterministic part (1 or 2). */
  order: 1 | 2;
  /** Whether the solver injects noise (and so reads `seed`). */
  stochastic: boolean;
  /** The algorithm, as a citation that resolves. */
  reference: string;
  /** Network evaluations of a call with `steps` steps (sigmas.length - 1). */
  nfe(steps: number): number;
  /** The largest number of steps whose NFE does not exceed `nfe` ("NFE 20" -> 20 Euler steps, 10 Heun steps). */
  stepsForNfe(nfe: number): number;
}

/**
 * The catalogue of sigma-space solvers (k-diffusion's `sample_*` names, diffusers' `order`): name, cost, order,
 * whether stochastic, and the function. `samplerCatalogue` lists them with the time-based samplers.
 *
 * @example
 * const { solve, stepsForNfe } = solvers.heun;
 * const y0 = await solve(D, yT, { sigmas: karrasSigmas(stepsForNfe(35), { sigmaMin: 0.002, sigmaMax: 80 }) });
 */
export const solvers: { readonly [K in SolverName]: Readonly<SolverEntry<K>> } = {
  euler: {
    name: "euler",
    solve: euler,
    nfePerStep: "1",
    order: 1,
    stochastic: false,
    reference: "Euler steps of Algorithm 1 of Karras et al. (2022), arXiv 2206.00364 (k-diffusion sample_euler)",
    nfe: eulerNfe,
    stepsForNfe: eulerSteps,
  },
  heun: {
    name: "heun",
    solve: heun,
    nfePerStep: "2 (1 on the last step, into sigma = 0)",
    order: 2,
    stochastic: false,
    reference: "Algorithm 1 of Karras et al. (2022), arXiv 2206.00364 (k-diffusion sample_heun)",
    nfe: heunNfe,
    stepsForNfe: heunSteps,
  },
  "edm-stochastic": {
    name: "edm-stochastic",
    solve: edmStochastic,
    nfePerStep: "2 (1 on the last step, into sigma = 0)",
    order: 2,
    stochastic: true,
    reference: "Algorithm 2 of Karras et al. (2022), arXiv 2206.00364 (k-diffusion sample_heun with s_churn)",
    nfe: heunNfe,
    stepsForNfe: heunSteps,
  },
  "dpmpp-2m": {
    name: "dpmpp-2m",
    solve: dpmpp2m,
    nfePerStep: "1",
    order: 2,
    stochastic: false,
    reference: "DPM-Solver++(2M), Lu et al. (2022), arXiv 2211.01095, Algorithm 2 (k-diffusion sample_dpmpp_2m)",
    nfe: eulerNfe,
    stepsForNfe: eulerSteps,
  },
  "dpmpp-2m-sde": {
    name: "dpmpp-2m-sde",
    solve: dpmpp2mSde,
    nfePerStep: "1",
    order: 2,
    stochastic: true,
    reference: "DPM-Solver++(2M) SDE, Lu et al. (2022), arXiv 2211.01095 (k-diffusion sample_dpmpp_2m_sde, midpoint)",
    nfe: eulerNfe,
    stepsForNfe: eulerSteps,
  },
};

/** The solvers' names, in the catalogue's order. */
export const SOLVER_NAMES = Object.keys(solvers) as readonly SolverName[];
