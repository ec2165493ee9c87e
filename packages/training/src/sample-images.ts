import type * as tf from "@tensorflow/tfjs-core";
import { daleLangevin, denoiserFromScore, eulerMaruyama, predictorCorrector, probabilityFlow, signAgnostic, solveProcess, solvers, type Denoiser, type SolverInfo, type SolverName } from "@dale/samplers";
import type { AnySDE, GBM, ScoreFn, SDE } from "@dale/sde";
import type { Transform } from "./config";
import { inverse } from "./data";

/** The sigma-space solvers of `@dale/samplers` (its `solvers` catalogue): they serve every process. */
export const SOLVERS = Object.keys(solvers) as SolverName[];
export const SAMPLERS = ["dale-langevin", "sign-agnostic", "probability-flow", "euler-maruyama", "predictor-corrector", ...SOLVERS] as const;
export type SamplerName = (typeof SAMPLERS)[number];
const MULTIPLICATIVE: readonly SamplerName[] = ["dale-langevin", "sign-agnostic", "probability-flow"];
const ADDITIVE: readonly SamplerName[] = ["euler-maruyama", "predictor-corrector"];

/** Whether `name` is one of the sigma-space solvers. */
export function isSolver(name: SamplerName): name is SolverName {
  return (SOLVERS as readonly string[]).includes(name);
}

/** Network evaluations per image of `steps` steps of a sampler (the reference samplers: one per update). */
export function samplerNfe(name: SamplerName, schedule: Schedule): number {
  if (isSolver(name)) return solvers[name].nfe(schedule.steps);
  if (name === "probability-flow") return 2 * schedule.steps - 1;
  const updates = schedule.steps * (schedule.repeats ?? 1) + (schedule.denoiseSteps ?? 0);
  return name === "predictor-corrector" ? 2 * updates : updates;
}

/**
 * The most steps of `sampler` whose network evaluations per image (`samplerNfe`) fit in `nfe`; 0 when not even one
 * step fits (predictor-corrector at NFE 1). The solvers' come from their catalogue entry.
 */
export function stepsForNfe(sampler: SamplerName, nfe: number): number {
  if (isSolver(sampler)) return solvers[sampler].stepsForNfe(nfe);
  if (sampler === "probability-flow") return Math.floor((nfe + 1) / 2);
  return Math.floor(nfe / samplerNfe(sampler, { steps: 1 }));
}

export const GRIDS = ["uniform", "karras"] as const;

/** The step schedule of a sampler; delta, repeats, anneal, denoiseSteps and denoise apply to the GBM samplers. */
export interface Schedule {
  steps: number;
  /** Where the time levels fall (`timeGrid` of @dale/samplers); default uniform. */
  grid?: (typeof GRIDS)[number];
  /** The karras grid's exponent (default 7) and last level before 0 (default 1e-3 T). */
  rho?: number;
  /** The solvers' smallest non-zero noise level (default 0.002, EDM's). */
  sigmaMin?: number;
  tMin?: number;
  delta?: number;
  repeats?: number;
  anneal?: number;
  denoiseSteps?: number;
  /** The last update injects no noise (default true for the GBM samplers). */
  denoise?: boolean;
}

/** The solver and steps that a denoiser model (the EDM recipe) samples with by default: Heun, 18 steps, NFE 35. */
export const DEFAULT_SOLVER: { sampler: SolverName; steps: number } = { sampler: "heun", steps: 18 };

/**
 * The default sampler of a model under a process: {@link DEFAULT_SOLVER} for a denoiser (the EDM recipe);
 * otherwise Dale-Langevin for GBM and Euler-Maruyama for the additive processes.
 */
export function defaultSampler(sde: SDE, output?: string): SamplerName {
  if (output === "denoiser") return DEFAULT_SOLVER.sampler;
  return sde.kind === "gbm" ? "dale-langevin" : "euler-maruyama";
}

/** Throws when the sampler does not fit the process (a multiplicative sampler on VP/VE, or an additive one on GBM). */
export function checkSampler(sampler: SamplerName, sde: SDE): void {
  if (isSolver(sampler)) return;
  const multiplicative = MULTIPLICATIVE.includes(sampler);
  if (multiplicative && sde.kind !== "gbm") {
    throw new Error(`the ${sampler} sampler is for multiplicative (GBM) diffusion, but this checkpoint was trained with the additive ${sde.kind} process; use euler-maruyama or predictor-corrector.`);
  }
  if (ADDITIVE.includes(sampler) && sde.kind === "gbm") {
    throw new Error(`the ${sampler} sampler is for additive (VP/VE) diffusion, but this checkpoint was trained with GBM; use dale-langevin, sign-agnostic, probability-flow or a solver (${SOLVERS.join(", ")}).`);
  }
}

/**
 * Draws `n` images in batches of `batch` from the prior at T and runs the sampler; returns them as `[n, H, W, C]`
 * float32 values in [0, 1] after the inverse pixel transform. Batch b uses seeds (seed, 2b) for the prior and
 * (seed, 2b + 1) for the sampler noise, so the result depends on the batch size but not on anything else.
 */
export async function sampleImages(options: {
  score: ScoreFn;
  /** The model's denoiser, for the solvers; default the score's through Tweedie's formula (`denoiserFromScore`). */
  denoiser?: Denoiser;
  sde: AnySDE;
  sampler: SamplerName;
  schedule: Schedule;
  transform: Transform;
  shape: [number, number, number];
  n: number;
  batch: number;
  seed: number;
  onBatch?: (done: number, total: number) => void;
  /** Called after every network evaluation of every batch: `nfe` of `totalNfe` for the images `done` to `done + m`. */
  onEvaluation?: (progress: { nfe: number; totalNfe: number; done: number; batchSize: number; total: number }) => void;
}): Promise<Float32Array> {
  const { score, sde, sampler, schedule, transform, shape, n, batch, seed } = options;
  const denoiser = isSolver(sampler) ? (options.denoiser ?? denoiserFromScore(score, sde)) : null;
  const totalNfe = samplerNfe(sampler, schedule);
  checkSampler(sampler, sde);
  const size = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(n * size);
  for (let start = 0, b = 0; start < n; start += batch, b++) {
    const m = Math.min(batch, n - start);
    const priorSeed = (seed * 1_000_003 + 2 * b) | 0;
    const noiseSeed = (seed * 1_000_003 + 2 * b + 1) | 0;
    const xT = sde.prior.sample([m, ...shape], priorSeed);
    let x0: tf.Tensor;
    const report = options.onEvaluation
      ? (nfe: number) => options.onEvaluation?.({ nfe, totalNfe, done: start, batchSize: m, total: n })
      : undefined;
    try {
      x0 = denoiser
        ? await solveProcess(denoiser, xT, {
            sde,
            solver: sampler as SolverName,
            steps: schedule.steps,
            seed: noiseSeed,
            ...(schedule.rho !== undefined ? { rho: schedule.rho } : {}),
            ...(schedule.sigmaMin !== undefined ? { sigmaMin: schedule.sigmaMin } : {}),
            ...(report ? { callback: (info: SolverInfo) => report(info.nfe) } : {}),
          })
        : await run(sampler, score, xT, sde, schedule, noiseSeed, report);
    } finally {
      xT.dispose();
    }
    const pixels = inverse(x0, transform);
    x0.dispose();
    out.set(await pixels.data(), start * size);
    pixels.dispose();
    options.onBatch?.(start + m, n);
  }
  return out;
}

async function run(sampler: SamplerName, score: ScoreFn, xT: tf.Tensor, sde: AnySDE, schedule: Schedule, seed: number, report?: (nfe: number) => void): Promise<tf.Tensor> {
  // One update is one network evaluation, except the predictor-corrector's two and the probability flow's Heun steps.
  const perUpdate = sampler === "predictor-corrector" ? 2 : 1;
  const callback = report ? { callback: (info: { step: number }) => report(sampler === "probability-flow" ? Math.min(2 * info.step, samplerNfe(sampler, schedule)) : perUpdate * info.step) } : {};
  const grid = {
    ...(schedule.grid !== undefined ? { grid: schedule.grid } : {}),
    ...(schedule.rho !== undefined ? { rho: schedule.rho } : {}),
    ...(schedule.tMin !== undefined ? { tMin: schedule.tMin } : {}),
  };
  const gbmOptions = (g: GBM) => ({
    sde: g,
    steps: schedule.steps,
    seed,
    ...callback,
    ...grid,
    ...(schedule.denoise !== undefined ? { denoise: schedule.denoise } : {}),
    ...(schedule.delta !== undefined ? { delta: schedule.delta } : {}),
    ...(schedule.repeats !== undefined ? { repeats: schedule.repeats } : {}),
    ...(schedule.anneal !== undefined ? { anneal: schedule.anneal } : {}),
    ...(schedule.denoiseSteps !== undefined ? { denoiseSteps: schedule.denoiseSteps } : {}),
  });
  if (isSolver(sampler)) throw new Error(`run: ${sampler} is a solver; solveProcess runs it.`);
  switch (sde.kind) {
    case "gbm":
      switch (sampler) {
        case "dale-langevin":
          return daleLangevin(score, xT, gbmOptions(sde));
        case "sign-agnostic":
          return signAgnostic(score, xT, gbmOptions(sde));
        case "probability-flow":
          return probabilityFlow(score, xT, { sde, steps: schedule.steps, ...grid, ...callback });
      }
      break;
    case "vp":
    case "ve":
      switch (sampler) {
        case "euler-maruyama":
          return eulerMaruyama(score, xT, { sde, steps: schedule.steps, seed, ...grid, ...callback });
        case "predictor-corrector":
          return predictorCorrector(score, xT, { sde, steps: schedule.steps, seed, ...grid, ...callback });
      }
      break;
  }
  // Unreachable after checkSampler, which sampleImages calls first with the full explanation.
  throw new Error(`run: the ${sampler} sampler does not fit the ${sde.kind} process.`);
}
