import type * as tf from "@tensorflow/tfjs-core";
import { daleLangevin, eulerMaruyama, predictorCorrector, probabilityFlow, signAgnostic } from "@dale/samplers";
import type { GBM, ScoreFn, SDE, VESDE, VPSDE } from "@dale/sde";
import type { Transform } from "./config";
import { inverse } from "./data";

export const SAMPLERS = ["dale-langevin", "sign-agnostic", "probability-flow", "euler-maruyama", "predictor-corrector"] as const;
export type SamplerName = (typeof SAMPLERS)[number];
const MULTIPLICATIVE: readonly SamplerName[] = ["dale-langevin", "sign-agnostic", "probability-flow"];

export const GRIDS = ["uniform", "karras"] as const;

/** The step schedule of a sampler; delta, repeats, anneal, denoiseSteps and denoise apply to the GBM samplers. */
export interface Schedule {
  steps: number;
  /** Where the time levels fall (`timeGrid` of @dale/samplers); default uniform. */
  grid?: (typeof GRIDS)[number];
  /** The karras grid's exponent (default 7) and last level before 0 (default 1e-3 T). */
  rho?: number;
  tMin?: number;
  delta?: number;
  repeats?: number;
  anneal?: number;
  denoiseSteps?: number;
  /** The last update injects no noise (default true for the GBM samplers). */
  denoise?: boolean;
}

/** The default sampler of a process: Dale-Langevin for GBM, Euler-Maruyama for the additive ones. */
export function defaultSampler(sde: SDE): SamplerName {
  return sde.kind === "gbm" ? "dale-langevin" : "euler-maruyama";
}

/** Throws when the sampler does not fit the process (a multiplicative sampler on VP/VE, or an additive one on GBM). */
export function checkSampler(sampler: SamplerName, sde: SDE): void {
  const multiplicative = MULTIPLICATIVE.includes(sampler);
  if (multiplicative && sde.kind !== "gbm") {
    throw new Error(`the ${sampler} sampler is for multiplicative (GBM) diffusion, but this checkpoint was trained with the additive ${sde.kind} process; use euler-maruyama or predictor-corrector.`);
  }
  if (!multiplicative && sde.kind === "gbm") {
    throw new Error(`the ${sampler} sampler is for additive (VP/VE) diffusion, but this checkpoint was trained with GBM; use dale-langevin, sign-agnostic or probability-flow.`);
  }
}

/**
 * Draws `n` images in batches of `batch` from the prior at T and runs the sampler; returns them as `[n, H, W, C]`
 * float32 values in [0, 1] after the inverse pixel transform. Batch b uses seeds (seed, 2b) for the prior and
 * (seed, 2b + 1) for the sampler noise, so the result depends on the batch size but not on anything else.
 */
export async function sampleImages(options: {
  score: ScoreFn;
  sde: SDE;
  sampler: SamplerName;
  schedule: Schedule;
  transform: Transform;
  shape: [number, number, number];
  n: number;
  batch: number;
  seed: number;
  onBatch?: (done: number, total: number) => void;
}): Promise<Float32Array> {
  const { score, sde, sampler, schedule, transform, shape, n, batch, seed } = options;
  checkSampler(sampler, sde);
  const size = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(n * size);
  for (let start = 0, b = 0; start < n; start += batch, b++) {
    const m = Math.min(batch, n - start);
    const priorSeed = (seed * 1_000_003 + 2 * b) | 0;
    const noiseSeed = (seed * 1_000_003 + 2 * b + 1) | 0;
    const xT = sde.prior.sample([m, ...shape], priorSeed);
    let x0: tf.Tensor;
    try {
      x0 = await run(sampler, score, xT, sde, schedule, noiseSeed);
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

async function run(sampler: SamplerName, score: ScoreFn, xT: tf.Tensor, sde: SDE, schedule: Schedule, seed: number): Promise<tf.Tensor> {
  const grid = {
    ...(schedule.grid !== undefined ? { grid: schedule.grid } : {}),
    ...(schedule.rho !== undefined ? { rho: schedule.rho } : {}),
    ...(schedule.tMin !== undefined ? { tMin: schedule.tMin } : {}),
  };
  const gbmOptions = () => ({
    sde: sde as GBM,
    steps: schedule.steps,
    seed,
    ...grid,
    ...(schedule.denoise !== undefined ? { denoise: schedule.denoise } : {}),
    ...(schedule.delta !== undefined ? { delta: schedule.delta } : {}),
    ...(schedule.repeats !== undefined ? { repeats: schedule.repeats } : {}),
    ...(schedule.anneal !== undefined ? { anneal: schedule.anneal } : {}),
    ...(schedule.denoiseSteps !== undefined ? { denoiseSteps: schedule.denoiseSteps } : {}),
  });
  switch (sampler) {
    case "dale-langevin":
      return daleLangevin(score, xT, gbmOptions());
    case "sign-agnostic":
      return signAgnostic(score, xT, gbmOptions());
    case "probability-flow":
      return probabilityFlow(score, xT, { sde: sde as GBM, steps: schedule.steps, ...grid });
    case "euler-maruyama":
      return eulerMaruyama(score, xT, { sde: sde as VPSDE | VESDE, steps: schedule.steps, seed, ...grid });
    case "predictor-corrector":
      return predictorCorrector(score, xT, { sde: sde as VPSDE | VESDE, steps: schedule.steps, seed, ...grid });
    default: {
      const never: never = sampler;
      throw new Error(`unknown sampler ${String(never)}.`);
    }
  }
}
