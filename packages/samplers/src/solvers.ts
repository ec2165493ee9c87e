import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, normalArray } from "@dale/sde";
import { eventLoopYielder } from "./loop";

// Solvers in sigma space (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models",
// arXiv 2206.00364, section 2). Every process here is, in its denoising coordinates y, the variance-exploding
//
//     y_sigma = y_0 + sigma Z,   Z ~ N(0, I),
//
// whose probability-flow ODE (EDM eq. 1 with sigma(t) = t, s(t) = 1) is
//
//     dy / dsigma = (y - D(y; sigma)) / sigma,   D(y; sigma) = E[y_0 | y_sigma = y].
//
// The solvers below integrate that ODE (or a matching SDE) from sigmas[0] down to 0 and know nothing of the process;
// a process adapter maps x <-> y (for GBM, y = log x, so every solver here keeps signs once x = exp(y)). Like
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
   * {@link karrasSigmas}. The solver starts from y at noise level sigmas[0].
   */
  sigmas: ArrayLike<number>;
  /** Called after every network evaluation (progress per NFE). */
  callback?: (info: SolverInfo) => void;
  /** Stops the solver between network evaluations; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Seed of the injected noise (stochastic solvers only; the others ignore it). Default 0. */
  seed?: number;
}

/** Options of {@link edmStochastic}: EDM's Algorithm 2 parameters (Karras et al. 2022, section 4 and Table 5). */
export interface EdmStochasticOptions extends SolverOptions {
  /**
   * Overall amount of churn S_churn: each step with sTmin <= sigma_i <= sTmax first raises the noise level by a factor
   * 1 + gamma, gamma = min(sChurn / steps, sqrt(2) - 1). Default 40, with sTmin 0.05 and sTmax 50: EDM's ImageNet-64
   * setting (its README runs it with 256 steps, gamma 0.16; below 97 steps gamma is the maximum). 0 gives {@link heun}.
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

/** Options of {@link dpmpp2mSde}. */
export interface Dpmpp2mSdeOptions extends SolverOptions {
  /** Stochasticity eta >= 0: 0 is the ODE solver {@link dpmpp2m}, 1 (the default) the reverse SDE's own noise. */
  eta?: number;
}

/**
 * The noise levels of Karras et al. (2022), eq. 5 (k-diffusion's `get_sigmas_karras`): steps values evenly spaced in
 * sigma^(1/rho) from sigmaMax down to sigmaMin, then 0,
 *
 *     sigma_i = (sigmaMax^(1/rho) + i / (steps - 1) (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho,   i < steps;
 *     sigma_steps = 0.
 *
 * A larger rho spends more steps at low noise. With steps = 1 the levels are [sigmaMax, 0].
 *
 * @returns steps + 1 noise levels, the first exactly sigmaMax, the one before last exactly sigmaMin, the last 0
 * @example
 * karrasSigmas(18, { sigmaMin: 0.002, sigmaMax: 80 }); // EDM's CIFAR-10 levels: 80, 57.6, ..., 0.002, 0
 */
export function karrasSigmas(steps: number, o: { sigmaMin: number; sigmaMax: number; rho?: number }): Float64Array {
  const fn = "karrasSigmas";
  checkSteps(steps, fn, "steps");
  const { sigmaMin, sigmaMax, rho = 7 } = o;
  if (!(sigmaMin > 0 && sigmaMin < sigmaMax && Number.isFinite(sigmaMax))) {
    throw new Error(`${fn}: sigmaMin and sigmaMax must satisfy 0 < sigmaMin < sigmaMax < Infinity, got ${sigmaMin} and ${sigmaMax}.`);
  }
  if (!(rho > 0 && Number.isFinite(rho))) throw new Error(`${fn}: rho must be a positive number, got ${rho}.`);
  const hi = sigmaMax ** (1 / rho);
  const lo = sigmaMin ** (1 / rho);
  const sigmas = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) sigmas[i] = steps === 1 ? sigmaMax : (hi + (i / (steps - 1)) * (lo - hi)) ** rho;
  sigmas[0] = sigmaMax;
  if (steps > 1) sigmas[steps - 1] = sigmaMin;
  return sigmas;
}

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
    eulerStep(yi, evaluate(yi, sigma), sigma, sigmaNext),
  );
}

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
  return integrate("heun", D, y, o, heunNfe, (yi, { sigma, sigmaNext, evaluate }) => heunStep(yi, sigma, sigmaNext, evaluate));
}

/**
 * EDM's stochastic sampler: Algorithm 2 of Karras et al. (2022), arXiv 2206.00364 (k-diffusion's `sample_heun` with
 * `s_churn`). Each step first adds noise to raise the level from sigma_i to sigma_hat ("churn"), then takes a Heun
 * step from sigma_hat to sigma_{i+1}:
 *
 *     gamma_i = min(sChurn / steps, sqrt(2) - 1) if sTmin <= sigma_i <= sTmax, else 0
 *     sigma_hat = (1 + gamma_i) sigma_i,   y_hat = y_i + sqrt(sigma_hat^2 - sigma_i^2) sNoise Z_i
 *     y_{i+1} = Heun step of {@link heun} from (y_hat, sigma_hat) to sigma_{i+1} (Euler into 0)
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
    if (gamma === 0) return heunStep(yi, sigma, sigmaNext, evaluate);
    const sigmaHat = (1 + gamma) * sigma;
    const yHat = addNoise(yi, sNoise * Math.sqrt(sigmaHat ** 2 - sigma ** 2), seed, i);
    return heunStep(yHat, sigmaHat, sigmaNext, evaluate);
  });
}

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
 * DPM-Solver++(2M) SDE with the midpoint correction (k-diffusion's `sample_dpmpp_2m_sde`, `solver_type="midpoint"`;
 * Lu et al. 2022, arXiv 2211.01095, section 5): the multistep update of {@link dpmpp2m} for the reverse SDE, exact in
 * its linear part, with h_i = log(sigma_i / sigma_{i+1}), r_i = h_{i-1} / h_i:
 *
 *     y_{i+1} = (sigma_{i+1} / sigma_i) e^(-eta h_i) y_i + (1 - e^(-(1 + eta) h_i)) D_i
 *               + (1 - e^(-(1 + eta) h_i)) / (2 r_i) (D_i - D_{i-1})
 *               + sigma_{i+1} sqrt(1 - e^(-2 eta h_i)) Z_i
 *
 * (no D_{i-1} term on the first step), and the last step returns D(y; sigma_{steps-1}). Z_i ~ N(0, I) is Gaussian
 * noise drawn from `seed` with stream i (k-diffusion draws it from a Brownian tree; the law per step is the same).
 * eta = 0 gives {@link dpmpp2m}. Network evaluations: steps.
 *
 * @returns a new tensor: the state at noise level 0, with y's shape
 */
export async function dpmpp2mSde(D: Denoiser, y: tf.Tensor, o: Dpmpp2mSdeOptions): Promise<tf.Tensor> {
  const fn = "dpmpp2mSde";
  const { eta = 1 } = o;
  if (!(eta >= 0 && Number.isFinite(eta))) throw new Error(`${fn}: eta must be a finite number >= 0, got ${eta}.`);
  return multistep2m(fn, D, y, o, eta, checkSeed(o.seed, fn));
}

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
 * whether stochastic, and the function. Apps import this one table.
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

// ---------------------------------------------------------------------------------------------------------------
// Shared steps and the loop.

/** Evaluates the checked denoiser, counting it and reporting progress. */
type Evaluate = (y: tf.Tensor, sigma: number) => tf.Tensor;

/** What a step sees: its index, the noise levels it goes between, the denoiser, and the previous step's carry. */
interface StepContext {
  i: number;
  steps: number;
  sigmas: Float64Array;
  sigma: number;
  sigmaNext: number;
  evaluate: Evaluate;
  carry: tf.Tensor | undefined;
}

/** A step's result: the next state and, for multistep solvers, a tensor to hand to the next step. */
type StepResult = tf.Tensor | { y: tf.Tensor; carry: tf.Tensor };

/** The Euler step y + (sigmaNext - sigma) (y - denoised) / sigma; into 0 it is the denoised value itself. */
function eulerStep(y: tf.Tensor, denoised: tf.Tensor, sigma: number, sigmaNext: number): tf.Tensor {
  if (sigmaNext === 0) return denoised;
  return tf.add(y, tf.mul((sigmaNext - sigma) / sigma, tf.sub(y, denoised)));
}

/** One Heun step of EDM's Algorithm 1 from (y, sigma) to sigmaNext, Euler alone into 0. */
function heunStep(y: tf.Tensor, sigma: number, sigmaNext: number, evaluate: Evaluate): tf.Tensor {
  const denoised = evaluate(y, sigma);
  if (sigmaNext === 0) return denoised; // the Euler step into 0
  const d = tf.div(tf.sub(y, denoised), sigma);
  const dt = sigmaNext - sigma;
  const yEuler = tf.add(y, tf.mul(dt, d));
  const dNext = tf.div(tf.sub(yEuler, evaluate(yEuler, sigmaNext)), sigmaNext);
  return tf.add(y, tf.mul(dt / 2, tf.add(d, dNext)));
}

/** The DPM-Solver++(2M) update with stochasticity eta (see {@link dpmpp2mSde}); eta = 0 is {@link dpmpp2m}. */
function multistep2m(fn: string, D: Denoiser, y: tf.Tensor, o: SolverOptions, eta: number, seed: number): Promise<tf.Tensor> {
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
    if (eta > 0) next = addNoise(next, sigmaNext * Math.sqrt(-Math.expm1(-2 * eta * h)), seed, i);
    return { y: next, carry: denoised };
  });
}

/** base + scale Z, with Z ~ N(0, I) drawn for step `stream` of `seed`. */
function addNoise(base: tf.Tensor, scale: number, seed: number, stream: number): tf.Tensor {
  if (scale === 0) return base;
  return tf.add(base, tf.mul(scale, tf.tensor(normalArray(base.size, seed, stream), base.shape)));
}

/**
 * Runs `step` over the noise levels: validates the inputs, checks every denoiser output, counts network evaluations
 * and reports each one, stops on the abort signal before each evaluation, yields to the event loop about every 50 ms
 * (as `runLoop` does), and disposes every intermediate. Each step runs inside `tf.tidy`. The caller's `y0` is never
 * disposed; the result is always a new tensor.
 */
async function integrate(
  fn: string,
  D: Denoiser,
  y0: tf.Tensor,
  o: SolverOptions,
  nfeOf: (steps: number) => number,
  step: (y: tf.Tensor, ctx: StepContext) => StepResult,
): Promise<tf.Tensor> {
  if (typeof D !== "function") throw new Error(`${fn}: D must be a denoiser function (y, sigma) => tf.Tensor, got ${typeof D}.`);
  assertFloat(y0, fn, "y");
  if (typeof o !== "object" || o === null) throw new Error(`${fn}: options must be an object with sigmas, got ${String(o)}.`);
  const sigmas = checkSigmas(o.sigmas, fn);
  if (o.callback !== undefined && typeof o.callback !== "function") throw new Error(`${fn}: callback must be a function, got ${typeof o.callback}.`);
  const steps = sigmas.length - 1;
  const totalNfe = nfeOf(steps);
  let nfe = 0;
  let i = 0;
  const evaluate: Evaluate = (y, sigma) => {
    o.signal?.throwIfAborted();
    const out: unknown = D(y, sigma);
    if (!(out instanceof tf.Tensor) || out.dtype !== "float32" || !tf.util.arraysEqual(out.shape, y.shape)) {
      const got = out instanceof tf.Tensor ? `a ${out.dtype} tensor of shape [${out.shape}]` : typeof out;
      throw new Error(`${fn}: D(y, sigma) must return a float32 tensor of y's shape [${y.shape}], got ${got} at sigma = ${sigma}.`);
    }
    // A clone owned by this step's tidy: a denoiser may return its input or a tensor it keeps, which must outlive us.
    const denoised = tf.clone(out);
    nfe++;
    o.callback?.({ nfe, totalNfe, step: i + 1, steps, sigma, y, denoised });
    return denoised;
  };

  let y = y0;
  let carry: tf.Tensor | undefined;
  const maybeYield = eventLoopYielder();
  try {
    for (; i < steps; i++) {
      const ctx: StepContext = { i, steps, sigmas, sigma: sigmas[i] as number, sigmaNext: sigmas[i + 1] as number, evaluate, carry };
      const result = tf.tidy((): { y: tf.Tensor; carry?: tf.Tensor } => {
        const r = step(y, ctx);
        return r instanceof tf.Tensor ? { y: r } : r;
      });
      if (y !== y0 && y !== result.y) y.dispose();
      if (carry && carry !== result.carry) carry.dispose();
      y = result.y;
      carry = result.carry;
      await maybeYield();
    }
    o.signal?.throwIfAborted();
  } catch (e) {
    if (y !== y0) y.dispose();
    carry?.dispose();
    throw e;
  }
  carry?.dispose();
  return y === y0 ? tf.clone(y0) : y;
}

/** Checks a noise-level schedule: at least 2 finite values, falling strictly, ending at exactly 0. */
function checkSigmas(sigmas: ArrayLike<number> | undefined, fn: string): Float64Array {
  if (sigmas === undefined || sigmas === null || typeof sigmas.length !== "number") {
    throw new Error(`${fn}: sigmas must be an array of steps + 1 noise levels, e.g. karrasSigmas(steps, { sigmaMin, sigmaMax }); got ${String(sigmas)}.`);
  }
  const s = Float64Array.from(sigmas);
  const n = s.length;
  if (n < 2) throw new Error(`${fn}: sigmas must hold steps + 1 >= 2 noise levels, got ${n}.`);
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(s[k])) throw new Error(`${fn}: sigmas must be finite numbers; sigmas[${k}] = ${s[k]}.`);
  }
  if (s[n - 1] !== 0) throw new Error(`${fn}: sigmas must end at exactly 0, got sigmas[${n - 1}] = ${s[n - 1]}.`);
  for (let k = 0; k + 1 < n; k++) {
    if (!((s[k] as number) > (s[k + 1] as number))) {
      throw new Error(`${fn}: sigmas must fall strictly; sigmas[${k}] = ${s[k]}, sigmas[${k + 1}] = ${s[k + 1]}.`);
    }
  }
  return s;
}

function checkSeed(seed: number | undefined, fn: string): number {
  if (seed === undefined) return 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  return seed;
}

function checkSteps(v: number, fn: string, arg: string): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${arg} must be an integer >= 1, got ${v}.`);
}

function eulerNfe(steps: number): number {
  checkSteps(steps, "solvers.nfe", "steps");
  return steps;
}

function heunNfe(steps: number): number {
  checkSteps(steps, "solvers.nfe", "steps");
  return 2 * steps - 1;
}

function eulerSteps(nfe: number): number {
  checkSteps(nfe, "solvers.stepsForNfe", "nfe");
  return nfe;
}

function heunSteps(nfe: number): number {
  checkSteps(nfe, "solvers.stepsForNfe", "nfe");
  return Math.floor((nfe + 1) / 2);
}
