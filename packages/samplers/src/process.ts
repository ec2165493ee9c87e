import type * as tf from "@tensorflow/tfjs-core";
import { assertOneOf, noiseCoordinates, scoreDenoiser, type AnySDE, type ScoreFn, type SDE } from "@dale/sde";
import { checkedScore, checkStart } from "./guards";
import { karrasSigmas, solvers, type Denoiser, type SolverInfo, type SolverName, type SolverOptionsByName } from "./solvers";

/** The smallest noise level of the default grid: EDM's sigma_min (Karras et al. 2022, Table 1). */
export const DEFAULT_SIGMA_MIN = 0.002;

/**
 * Options of {@link solveProcess}: the process, the solver and its grid. The solver's own options (`sChurn`, `eta`,
 * ...) pass through.
 */
export type SolveProcessOptions<K extends SolverName = SolverName> = Omit<SolverOptionsByName[K], "sigmas"> & {
  /** The forward process; its noise coordinates (`noiseCoordinates` of `@dale/sde`) are where the solver runs. */
  sde: AnySDE;
  /** A name from the {@link solvers} catalogue. Default "heun". */
  solver?: K;
  /** Number of steps; `solvers[solver].stepsForNfe(nfe)` turns a budget of network evaluations into steps. */
  steps: number;
  /** The grid's smallest non-zero noise level. Default 0.002 (EDM), or the process's noise level at t = 0 if larger (VE). */
  sigmaMin?: number;
  /** The grid's largest noise level. Default the process's noise level at T, where `xT` was drawn. */
  sigmaMax?: number;
  /** The Karras grid's exponent. Default 7 (EDM). */
  rho?: number;
  /** The noise levels themselves, steps + 1 values falling to 0, instead of the Karras grid. */
  sigmas?: ArrayLike<number>;
};

/**
 * Samples a diffusion model with a sigma-space solver (Euler, Heun, EDM's stochastic sampler, DPM-Solver++) in the
 * process's denoising coordinates (Karras et al. 2022, arXiv 2206.00364, section 2; docs/method.md, section 9):
 *
 *     y_T = toY(x_T, T),   y_0 = solver(D, y_T, karrasSigmas(steps, sigmaMin, sigmaMax)),   x_0 = toX(y_0, 0)
 *
 * EDM's stochastic sampler churns only at or below sigma(T) / sqrt(2) (a larger `sTmax` is lowered to it), so that
 * its raised noise levels stay within the process's.
 *
 * For GBM y = log x, so every solver is sign-preserving by construction: x_0 = exp(y_0) > 0 whatever the step size,
 * and no intermediate x is ever formed (float32 exp would overflow at large log-noise). For VP y = x / a(t), for VE
 * y = x.
 *
 * @param denoiser D(y; sigma) in those coordinates: a trained denoiser (`toDenoiser` of `@dale/models`), or any score
 *   function through {@link denoiserFromScore}
 * @param xT the state at T, e.g. `sde.prior.sample(shape, seed)` (strictly positive for GBM)
 * @returns x_0, with xT's shape
 * @example
 * const D = denoiserFromScore(exact.stein, sde);
 * const x0 = await solveProcess(D, sde.prior.sample([64, 1], 0), { sde, solver: "dpmpp-2m", steps: 20 });
 */
export async function solveProcess<K extends SolverName = "heun">(
  denoiser: Denoiser,
  xT: tf.Tensor,
  options: SolveProcessOptions<K>,
): Promise<tf.Tensor> {
  const fn = "solveProcess";
  const { sde, solver = "heun" as K, steps, rho: _rho, sigmas: given, sigmaMin: _min, sigmaMax: _max, ...rest } = options;
  await checkStart(xT, sde, fn);
  assertOneOf(solver, Object.keys(solvers) as SolverName[], fn, "solver");
  const entry = solvers[solver] as unknown as (typeof solvers)[SolverName];
  const sigmas = given ?? processSigmas(sde, steps, options);
  if (sigmas.length !== steps + 1) throw new Error(`${fn}: sigmas must hold steps + 1 = ${steps + 1} values, got ${sigmas.length}.`);
  const c = noiseCoordinates(sde);
  const yT = c.toY(xT, sde.T);
  let y0: tf.Tensor | undefined;
  try {
    const solve = entry.solve as (D: Denoiser, y: tf.Tensor, o: SolverOptionsByName[K]) => Promise<tf.Tensor>;
    // EDM's churn raises sigma_i by up to a factor sqrt(2); keep it within the process's noise levels, where a score
    // function is defined (a network would have to extrapolate beyond them).
    const given = (rest as { sTmax?: number }).sTmax;
    const cap = sde.noiseLevel(sde.T) / Math.SQRT2;
    const sTmax = given === undefined ? cap : Math.min(given, cap);
    const sTmin = (rest as { sTmin?: number }).sTmin;
    const churnCap = solver === "edm-stochastic" ? { sTmax, ...(sTmin !== undefined && sTmin > sTmax && (given === undefined || given >= sTmin) ? { sTmin: sTmax } : {}) } : {};
    y0 = await solve(denoiser, yT, { ...(rest as object), ...churnCap, sigmas } as SolverOptionsByName[K]);
    return c.toX(y0, 0);
  } finally {
    yT.dispose();
    y0?.dispose();
  }
}

/**
 * The default noise levels of {@link solveProcess}: EDM's Karras grid (eq. 5) from the process's noise level at T
 * down to sigmaMin, then 0.
 */
export function processSigmas(sde: SDE, steps: number, options: { sigmaMin?: number; sigmaMax?: number; rho?: number } = {}): Float64Array {
  const floor = sde.noiseLevel(0);
  const sigmaMin = options.sigmaMin ?? Math.max(DEFAULT_SIGMA_MIN, floor * (1 + 1e-9));
  const sigmaMax = options.sigmaMax ?? sde.noiseLevel(sde.T);
  if (!(sigmaMin >= floor)) throw new Error(`processSigmas: sigmaMin ${sigmaMin} lies below the ${sde.kind} process's noise level at t = 0 (${floor}).`);
  return karrasSigmas(steps, { sigmaMin, sigmaMax, ...(options.rho !== undefined ? { rho: options.rho } : {}) });
}

/**
 * A denoiser from any Stein score function, by Tweedie's formula in the process's coordinates
 * (`noiseCoordinates(sde).scoreToDenoised`): at noise level sigma, t = t(sigma), x = toX(y, t), and
 *
 *     D(y; sigma) = y + sigma^2 grad_y log p_t(y)
 *
 * For GBM grad_y log p = x grad_x log p + 1 = h + 1, the Hyvarinen score plus one (docs/method.md, sections 2 and 9).
 * It forms x = exp(y), so at very large log-noise (sigma above about 15) float32 may overflow: a trained denoiser,
 * which never leaves y, has no such limit.
 *
 * @example
 * const D = denoiserFromScore(lognormalMixtureScore(sde, mixture).stein, sde);
 */
export function denoiserFromScore(score: ScoreFn, sde: AnySDE): Denoiser {
  return scoreDenoiser(checkedScore(score, "denoiserFromScore"), sde);
}

export type { SolverInfo };
