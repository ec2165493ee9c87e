import type { SDE } from "@dale/sde";
import { timeGrid, uniformTimes, type GridOptions } from "./grids";
import { checkInteger } from "./guards";

/** One update of a sampler, as the loop sees it: it steps the state from time t to t - delta. */
export interface Update {
  /** Time at which the score is evaluated. */
  t: number;
  /** Step size. */
  delta: number;
  /** Multiplier of the injected noise (0 for noise-free steps). */
  noiseScale: number;
}

/** The reference implementation's schedule options (docs/method.md, section 7), shared by `updateSchedule` and the GBM samplers. */
export interface ScheduleOptions {
  /** Step size. Default T / steps. The reference uses a tuned value per dataset (see `referencePresets`). */
  delta?: number;
  /** Updates per time level (the reference's L). Default 1. */
  repeats?: number;
  /** The injected noise is multiplied by this after every level. Default 1 (no annealing). */
  anneal?: number;
  /** Noise-free updates appended after the last level (the reference's final denoising for CIFAR-10). Default 0. */
  denoiseSteps?: number;
  /**
   * Time at which the noise-free updates evaluate the score: in (0, T]. Default the grid's last level before 0 (T / steps
   * on the uniform grid, the reference's smallest trained time). The reference code queries t = 0, where p_0 is the
   * data distribution: no score network is trained there and a noise-predicting one divides by sqrt(v(0)) = 0, so t = 0
   * is refused before the loop starts.
   */
  denoiseTime?: number;
  /** The last update injects no noise (score_sde's `denoise`). Default false here; the GBM samplers default to true. */
  denoise?: boolean;
}

/**
 * The full update schedule of the reference implementation (docs/method.md, section 7): at each level, `repeats` updates
 * with step `delta` and noise multiplied by `anneal` after every level, then `denoiseSteps` noise-free updates at
 * `denoiseTime`. With the defaults it is plain Euler-Maruyama: one update per level with delta = T / steps.
 */
export function updateSchedule(
  options: ScheduleOptions & {
    T: number;
    steps: number;
    /** The times of `timeGrid`; default the uniform grid. */
    times?: ArrayLike<number>;
  },
): Update[] {
  const { T, steps, repeats = 1, anneal = 1, denoiseSteps = 0 } = options;
  checkInteger(steps, "sampler", "steps", 1);
  checkInteger(repeats, "sampler", "repeats", 1);
  checkInteger(denoiseSteps, "sampler", "denoiseSteps", 0);
  const uniform = uniformTimes(T, steps);
  const times = options.times ?? uniform;
  if (times.length !== steps + 1) throw new Error(`sampler: times must hold steps + 1 = ${steps + 1} values, got ${times.length}.`);
  if (options.delta !== undefined) {
    if (!uniform.every((u, i) => Math.abs(u - (times[i] as number)) <= 1e-12 * T)) {
      throw new Error("sampler: delta (the reference's fixed step) works on the uniform grid only; leave out delta or grid.");
    }
    if (!(options.delta > 0) || !Number.isFinite(options.delta)) throw new Error(`sampler: delta must be a positive number, got ${options.delta}.`);
  }
  if (!(anneal > 0 && anneal <= 1)) throw new Error(`sampler: anneal must be in (0, 1], got ${anneal}.`);
  const denoiseTime = options.denoiseTime ?? (times[steps - 1] as number);
  if (!(denoiseTime > 0 && denoiseTime <= T)) {
    throw new Error(
      `sampler: denoiseTime must be in (0, T = ${T}], got ${denoiseTime}: the score at t = 0 is that of the data itself, which no ` +
        "network is trained on (a noise-predicting one divides by sqrt(v(0)) = 0). Leave it out to use the grid's last level.",
    );
  }
  // On the default grid every step is exactly T / steps (as before grids existed, so samples stay bit-identical).
  const fixed = options.delta ?? (options.times === undefined ? T / steps : undefined);
  const updates: Update[] = [];
  let noiseScale = 1;
  for (let k = 0; k < steps; k++) {
    const t = times[k] as number;
    const delta = fixed ?? t - (times[k + 1] as number);
    for (let r = 0; r < repeats; r++) updates.push({ t, delta, noiseScale });
    noiseScale *= anneal;
  }
  const delta = options.delta ?? T / steps;
  for (let i = 0; i < denoiseSteps; i++) updates.push({ t: denoiseTime, delta, noiseScale: 0 });
  const last = updates[updates.length - 1];
  if (options.denoise && last) updates[updates.length - 1] = { ...last, noiseScale: 0 };
  return updates;
}

/**
 * The updates of a sampler call: its grid (see `timeGrid`) plus the reference schedule's options. The uniform grid
 * keeps the exact step T / steps.
 */
export function samplerUpdates(sde: SDE, options: GridOptions & ScheduleOptions & { steps: number }): Update[] {
  const { grid, rho, tMin, ...rest } = options;
  const uniform = grid === undefined || grid === "uniform";
  if (uniform && (rho !== undefined || tMin !== undefined)) throw new Error('sampler: rho and tMin shape the "karras" grid; give grid: "karras" with them.');
  return updateSchedule({ ...rest, T: sde.T, ...(uniform ? {} : { times: timeGrid(sde, options.steps, { grid, rho, tMin }) }) });
}
