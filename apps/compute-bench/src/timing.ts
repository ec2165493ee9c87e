// Warm-up, calibration and the median: the method that python/bench_torch.py repeats for PyTorch.

export interface TimingOptions {
  /** Target time of the timed steps, in seconds; the step count is chosen from the last warm-up step. */
  seconds: number;
  /** Untimed steps first (they also calibrate the count). Default 3. */
  warmup?: number;
  /** Fewest timed steps. Default 3. */
  minSteps?: number;
  /** Most timed steps. Default 50. */
  maxSteps?: number;
}

export interface Timing {
  /** Median milliseconds per step. */
  msMedian: number;
  msMin: number;
  msMean: number;
  /** Timed steps. */
  steps: number;
  warmup: number;
}

export const TIMING_DEFAULTS = { warmup: 3, minSteps: 3, maxSteps: 50 } as const;

/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Timed steps for a target time: round(seconds / last warm-up step), clamped to [minSteps, maxSteps]. */
export function stepsFor(seconds: number, msPerStep: number, minSteps: number, maxSteps: number): number {
  const n = msPerStep > 0 ? Math.round((seconds * 1000) / msPerStep) : maxSteps;
  return Math.min(maxSteps, Math.max(minSteps, n));
}

/**
 * Runs `step` `warmup` times, then times each of N further calls, N = stepsFor(...). `step` must return only once the
 * backend has finished its work (read a scalar at its end), so that asynchronous backends are timed honestly.
 */
export async function timeSteps(step: () => Promise<void>, options: TimingOptions): Promise<Timing> {
  const warmup = options.warmup ?? TIMING_DEFAULTS.warmup;
  const minSteps = options.minSteps ?? TIMING_DEFAULTS.minSteps;
  const maxSteps = options.maxSteps ?? TIMING_DEFAULTS.maxSteps;
  let last = 0;
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    await step();
    last = performance.now() - t0;
  }
  const steps = stepsFor(options.seconds, last, minSteps, maxSteps);
  const samples: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    samples.push(performance.now() - t0);
  }
  return {
    msMedian: median(samples),
    msMin: Math.min(...samples),
    msMean: samples.reduce((a, b) => a + b, 0) / samples.length,
    steps,
    warmup,
  };
}
