import * as tf from "@tensorflow/tfjs-core";
import { assertOneOf, noiseCoordinates, type AnySDE, type GBM, type ScoreFn, type VESDE, type VPSDE } from "@dale/sde";
import { daleLangevin } from "./dale-langevin";
import { eulerMaruyama } from "./euler-maruyama";
import type { GBMSamplerOptions } from "./gbm-options";
import type { GridOptions } from "./grids";
import { predictorCorrector } from "./predictor-corrector";
import { probabilityFlow } from "./probability-flow";
import { denoiserFromScore, solveProcess } from "./process";
import type { StepInfo } from "./run-loop";
import { checkSampler, SAMPLER_NAMES, samplerCatalogue, samplerNfe, type SamplerName, type SamplerSchedule } from "./sampler-catalogue";
import { signAgnostic } from "./sign-agnostic";
import type { Denoiser, SolverInfo, SolverName } from "./solvers";

/** Progress of {@link runSampler}, after every network evaluation (or group of them, for the reference samplers). */
export interface SamplerProgress {
  /** Network evaluations so far. */
  nfe: number;
  /** Network evaluations of the whole run: `samplerNfe(name, schedule)`. */
  totalNfe: number;
  /**
   * The state at this point of the run, x_t in the process's ambient space (for the solvers, `toX(y, t(sigma))` of the
   * state y at which the network was just evaluated; for the reference samplers, the state after the update). A new
   * tensor that the caller disposes (kept out of the sampler's `tf.tidy` scopes); call it inside the callback. Nothing
   * is computed unless it is called.
   */
  x: () => tf.Tensor;
  /**
   * The network's current estimate of x_0 in ambient space: the solvers' denoised D(y; sigma) mapped to x (what
   * k-diffusion's callbacks call `denoised`). A new tensor that the caller disposes, computed only when called inside
   * the callback; absent for the reference samplers, which step with the score and hold no estimate.
   */
  denoised?: () => tf.Tensor;
}

/** Options of {@link runSampler}. */
export interface RunSamplerOptions {
  /** The Stein score grad_x log p_t(x) (wrap a Hyvarinen score with `toStein`); the reference samplers step with it. */
  score: ScoreFn;
  /**
   * The denoiser D(y; sigma) in the process's noise coordinates, for the solvers: e.g. `toDenoiser(model, sde)` of
   * `@dale/models` for a denoiser network. Default the score's, through Tweedie's formula (`denoiserFromScore`).
   */
  denoiser?: Denoiser;
  /** The process the score was trained with. */
  sde: AnySDE;
  /** The state at t = T, e.g. `sde.prior.sample(shape, seed)`; not disposed. */
  xT: tf.Tensor;
  /** Steps and the options of the sampler's schedule; the fields the sampler does not read are ignored. */
  schedule: SamplerSchedule;
  /** Seed of the injected noise (an integer). */
  seed: number;
  /**
   * Progress in network evaluations: the solvers report every evaluation; the reference samplers every update (one
   * evaluation, two for predictor-corrector) and the probability flow every Heun step (two evaluations, one on the last).
   * It runs inside the sampler's `tf.tidy`: a tensor made in it is disposed when the step ends unless `tf.keep`-ed (the
   * progress's `x()` and `denoised()` are kept already).
   */
  onEvaluation?: (progress: SamplerProgress) => void;
  /** Stops sampling between updates; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The state views of one progress report. */
type Views = Pick<SamplerProgress, "x" | "denoised">;

/** What a runner gets: the options, the run's NFE and the progress reporter (absent without `onEvaluation`). */
interface RunContext {
  o: RunSamplerOptions;
  totalNfe: number;
  report: ((nfe: number, views: Views) => void) | undefined;
}

type Runner = (c: RunContext) => Promise<tf.Tensor>;

/**
 * Runs the sampler `name` of {@link samplerCatalogue} from xT to t = 0 under its process, after `checkSampler`: the
 * reference samplers (`daleLangevin`, `signAgnostic`, `probabilityFlow`, `eulerMaruyama`, `predictorCorrector`) with the
 * score on their time grid, the solvers through `solveProcess` with the denoiser (default `denoiserFromScore(score,
 * sde)`) on the Karras grid of noise levels. Each sampler reads the schedule fields its entry lists in
 * `scheduleOptions`.
 *
 * @returns x_0, with xT's shape (a new tensor)
 * @example
 * const sde = gbm();
 * const xT = sde.prior.sample([64, 1], 0);
 * const x0 = await runSampler("dale-langevin", { score, sde, xT, schedule: { steps: 100, grid: "karras" }, seed: 1 });
 * const y0 = await runSampler("heun", { score, sde, xT, schedule: { steps: stepsForNfe("heun", 35) }, seed: 1 });
 */
export async function runSampler(name: SamplerName, options: RunSamplerOptions): Promise<tf.Tensor> {
  const fn = "runSampler";
  assertOneOf(name, SAMPLER_NAMES, fn, "name");
  if (typeof options !== "object" || options === null) {
    throw new Error(`${fn}: options must be an object { score, sde, xT, schedule, seed }, got ${String(options)}.`);
  }
  const { sde, schedule, seed, onEvaluation } = options;
  checkSampler(name, sde);
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  if (onEvaluation !== undefined && typeof onEvaluation !== "function") throw new Error(`${fn}: onEvaluation must be a function, got ${typeof onEvaluation}.`);
  const totalNfe = samplerNfe(name, schedule);
  const report = onEvaluation ? (nfe: number, views: Views) => onEvaluation({ nfe, totalNfe, ...views }) : undefined;
  return runners[name]({ o: options, totalNfe, report });
}

/** Each sampler's runner: the catalogue's dispatch table, exhaustive over {@link SamplerName}. */
const runners: { readonly [K in SamplerName]: Runner } = {
  "dale-langevin": (c) => daleLangevin(c.o.score, c.o.xT, gbmOptions(c, gbmOf("dale-langevin", c.o.sde))),
  "sign-agnostic": (c) => signAgnostic(c.o.score, c.o.xT, gbmOptions(c, gbmOf("sign-agnostic", c.o.sde))),
  "probability-flow": (c) =>
    probabilityFlow(c.o.score, c.o.xT, {
      sde: gbmOf("probability-flow", c.o.sde),
      steps: c.o.schedule.steps,
      ...gridOptions(c.o.schedule),
      ...common(c, (step) => Math.min(2 * step, c.totalNfe)),
    }),
  "euler-maruyama": (c) => eulerMaruyama(c.o.score, c.o.xT, additiveOptions(c, additiveOf("euler-maruyama", c.o.sde), 1)),
  "predictor-corrector": (c) => predictorCorrector(c.o.score, c.o.xT, additiveOptions(c, additiveOf("predictor-corrector", c.o.sde), 2)),
  euler: (c) => solve("euler", c),
  heun: (c) => solve("heun", c),
  "edm-stochastic": (c) => solve("edm-stochastic", c),
  "dpmpp-2m": (c) => solve("dpmpp-2m", c),
  "dpmpp-2m-sde": (c) => solve("dpmpp-2m-sde", c),
};

/** The process as GBM, for a multiplicative sampler (`checkSampler` has refused the others). */
function gbmOf(name: SamplerName, sde: AnySDE): GBM {
  if (sde.kind !== "gbm") throw new Error(`runSampler: the ${name} sampler needs GBM, got the ${sde.kind} process.`);
  return sde;
}

/** The process as VP or VE, for an additive sampler (`checkSampler` has refused GBM). */
function additiveOf(name: SamplerName, sde: AnySDE): VPSDE | VESDE {
  if (sde.kind === "gbm") throw new Error(`runSampler: the ${name} sampler needs an additive process (VP or VE), got GBM.`);
  return sde;
}

/** Schedule fields that `solve` passes to every solver itself. */
const SHARED_SOLVER_FIELDS: ReadonlySet<keyof SamplerSchedule> = new Set(["steps", "rho", "sigmaMin"]);

/** The set fields of the schedule that only `solver` reads (its catalogue entry's `scheduleOptions`): its stochasticity. */
function solverExtras(solver: SolverName, s: SamplerSchedule): Partial<SamplerSchedule> {
  const out: Partial<Record<keyof SamplerSchedule, unknown>> = {};
  for (const key of samplerCatalogue[solver].scheduleOptions) if (!SHARED_SOLVER_FIELDS.has(key) && s[key] !== undefined) out[key] = s[key];
  return out as Partial<SamplerSchedule>;
}

/** The schedule's time-grid fields that are set. */
function gridOptions(s: SamplerSchedule): GridOptions {
  return {
    ...(s.grid !== undefined ? { grid: s.grid } : {}),
    ...(s.rho !== undefined ? { rho: s.rho } : {}),
    ...(s.tMin !== undefined ? { tMin: s.tMin } : {}),
  };
}

/** The signal and the progress callback of a reference sampler, whose k-th update has done `nfeAt(k)` evaluations. */
function common(c: RunContext, nfeAt: (step: number) => number): { signal?: AbortSignal; callback?: (info: StepInfo) => void } {
  const { report } = c;
  return {
    ...(c.o.signal !== undefined ? { signal: c.o.signal } : {}),
    ...(report ? { callback: (info: StepInfo) => report(nfeAt(info.step), { x: () => tf.keep(tf.clone(info.x)) }) } : {}),
  };
}

function gbmOptions(c: RunContext, sde: GBM): GBMSamplerOptions {
  const s = c.o.schedule;
  return {
    sde,
    steps: s.steps,
    seed: c.o.seed,
    ...common(c, (step) => step),
    ...gridOptions(s),
    ...(s.denoise !== undefined ? { denoise: s.denoise } : {}),
    ...(s.delta !== undefined ? { delta: s.delta } : {}),
    ...(s.repeats !== undefined ? { repeats: s.repeats } : {}),
    ...(s.anneal !== undefined ? { anneal: s.anneal } : {}),
    ...(s.denoiseSteps !== undefined ? { denoiseSteps: s.denoiseSteps } : {}),
  };
}

/** Options of an additive sampler that makes `perUpdate` network evaluations per update. */
function additiveOptions(c: RunContext, sde: VPSDE | VESDE, perUpdate: number) {
  return { sde, steps: c.o.schedule.steps, seed: c.o.seed, ...gridOptions(c.o.schedule), ...common(c, (step) => perUpdate * step) };
}

/** A solver through `solveProcess`, with the given denoiser or the score's. */
function solve(solver: SolverName, c: RunContext): Promise<tf.Tensor> {
  const { o, report } = c;
  const s = o.schedule;
  const denoiser = o.denoiser ?? denoiserFromScore(o.score, o.sde);
  const coords = noiseCoordinates(o.sde);
  const sigmaT = coords.noiseLevel(o.sde.T); // EDM's churn may raise sigma a rounding error past it
  const views = (info: SolverInfo): Views => ({
    x: () => tf.keep(coords.toX(info.y, coords.timeAt(Math.min(info.sigma, sigmaT)))),
    denoised: () => tf.keep(coords.toX(info.denoised, 0)),
  });
  return solveProcess(denoiser, o.xT, {
    sde: o.sde,
    solver,
    steps: s.steps,
    seed: o.seed,
    ...(s.rho !== undefined ? { rho: s.rho } : {}),
    ...(s.sigmaMin !== undefined ? { sigmaMin: s.sigmaMin } : {}),
    ...solverExtras(solver, s),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
    ...(report ? { callback: (info: SolverInfo) => report(info.nfe, views(info)) } : {}),
  });
}

