import * as tf from "@tensorflow/tfjs-core";
import type { ScoreFn, SDE } from "@dale/sde";

/** What a sampler reports after each update. `x` is lent: read it inside the callback, do not dispose it. */
export interface StepInfo {
  /** Updates done so far, 1-based. */
  step: number;
  /** Total number of updates this call will make. */
  total: number;
  /** The time level at which the score was evaluated for this update. */
  t: number;
  /** The current state. */
  x: tf.Tensor;
  /** Coordinates that are not strictly positive (<= 0 or NaN); reported by the GBM samplers. */
  nonPositive?: number;
}

/** Options shared by every sampler. */
export interface BaseSamplerOptions {
  /** Number of time levels t_k = T k / steps, k = steps, ..., 1. */
  steps: number;
  /** Seed of the injected noise; the same seed, inputs and backend give the same samples. Default 0. */
  seed?: number;
  /** Called after every update (or every `callbackEvery` updates). */
  callback?: (info: StepInfo) => void;
  /** Call the callback every this many updates (and after the last). Default 1. */
  callbackEvery?: number;
  /** Stops sampling between updates; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One update of a sampler, as the loop sees it. */
export interface Update {
  /** Time at which the score is evaluated. */
  t: number;
  /** Step size. */
  delta: number;
  /** Multiplier of the injected noise (0 for noise-free steps). */
  noiseScale: number;
}

/**
 * The time levels of the default discretisation: t_k = T k / steps for k = steps down to 1 (a grid is data, as in
 * k-diffusion's `get_sigmas_*`). Each update steps from t_k to t_k - delta.
 */
export function timeLevels(T: number, steps: number): Float64Array {
  checkInteger(steps, "timeLevels", "steps", 1);
  return Float64Array.from({ length: steps }, (_, i) => (T * (steps - i)) / steps);
}

/**
 * The full update schedule of the reference implementation (paper-notes section 7): at each level, `repeats` updates
 * with step `delta` and noise multiplied by `anneal` after every level, then `denoiseSteps` noise-free updates at
 * `denoiseTime`. With the defaults it is plain Euler-Maruyama: one update per level with delta = T / steps.
 */
export function updateSchedule(options: {
  T: number;
  steps: number;
  delta?: number;
  repeats?: number;
  anneal?: number;
  denoiseSteps?: number;
  denoiseTime?: number;
}): Update[] {
  const { T, steps, repeats = 1, anneal = 1, denoiseSteps = 0, denoiseTime = 0 } = options;
  const delta = options.delta ?? T / steps;
  checkInteger(steps, "sampler", "steps", 1);
  checkInteger(repeats, "sampler", "repeats", 1);
  checkInteger(denoiseSteps, "sampler", "denoiseSteps", 0);
  if (!(delta > 0) || !Number.isFinite(delta)) throw new Error(`sampler: delta must be a positive number, got ${delta}.`);
  if (!(anneal > 0 && anneal <= 1)) throw new Error(`sampler: anneal must be in (0, 1], got ${anneal}.`);
  const updates: Update[] = [];
  let noiseScale = 1;
  for (const t of timeLevels(T, steps)) {
    for (let r = 0; r < repeats; r++) updates.push({ t, delta, noiseScale });
    noiseScale *= anneal;
  }
  for (let i = 0; i < denoiseSteps; i++) updates.push({ t: denoiseTime, delta, noiseScale: 0 });
  return updates;
}

/**
 * Runs `updates` through `step`, disposing every intermediate state, reporting progress, honouring the abort signal
 * and yielding to the event loop about every 50 ms so that timers (and aborts) can fire. The caller's `x0` is never
 * disposed.
 */
export async function runLoop(
  x0: tf.Tensor,
  updates: readonly Update[],
  options: BaseSamplerOptions & { countNonPositive?: boolean },
  step: (x: tf.Tensor, update: Update, index: number) => tf.Tensor,
): Promise<tf.Tensor> {
  const every = options.callbackEvery ?? 1;
  checkInteger(every, "sampler", "callbackEvery", 1);
  let x = x0;
  let lastYield = performance.now();
  try {
    for (let i = 0; i < updates.length; i++) {
      options.signal?.throwIfAborted();
      const u = updates[i] as Update;
      const next = tf.tidy(() => step(x, u, i));
      if (x !== x0) x.dispose();
      x = next;
      if (options.callback && ((i + 1) % every === 0 || i + 1 === updates.length)) {
        const info: StepInfo = { step: i + 1, total: updates.length, t: u.t, x };
        if (options.countNonPositive) info.nonPositive = countNonPositive(x);
        options.callback(info);
      }
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    options.signal?.throwIfAborted();
  } catch (e) {
    if (x !== x0) x.dispose();
    throw e;
  }
  return x === x0 ? tf.clone(x0) : x;
}

/** The number of coordinates of `x` that are not strictly positive: <= 0, or NaN. */
export function countNonPositive(x: tf.Tensor): number {
  const n = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.greater(x, 0)), "int32")));
  const v = n.dataSync()[0] as number;
  n.dispose();
  return v;
}

/** Evaluates the score and checks, on first use, that it returns a float tensor of x's shape. */
export function checkedScore(score: ScoreFn, fn: string): ScoreFn {
  const kind = (score as { kind?: string }).kind;
  if (typeof score !== "function") throw new Error(`${fn}: score must be a function (x, t) => tf.Tensor.`);
  if (kind !== undefined && kind !== "stein") {
    throw new Error(`${fn}: score must be a Stein score (grad log p); got a "${kind}" score. Wrap it: toStein(score).`);
  }
  let checked = false;
  return (x, t) => {
    const s = score(x, t);
    if (!checked) {
      if (!(s instanceof tf.Tensor) || !tf.util.arraysEqual(s.shape, x.shape)) {
        throw new Error(
          `${fn}: score(x, t) must return a tensor of x's shape [${x.shape}], got ${
            s instanceof tf.Tensor ? `shape [${s.shape}]` : typeof s
          }.`,
        );
      }
      checked = true;
    }
    return s;
  };
}

/** Checks xT and, for GBM samplers, that it is strictly positive. */
export function checkStart(xT: tf.Tensor, sde: SDE, fn: string): void {
  if (!(xT instanceof tf.Tensor)) throw new Error(`${fn}: xT must be a tf.Tensor, got ${typeof xT}.`);
  if (xT.dtype !== "float32") throw new Error(`${fn}: xT must have dtype float32, got ${xT.dtype}.`);
  if (sde.domain === "positive" && countNonPositive(xT) > 0) {
    throw new Error(
      `${fn}: xT must be strictly positive for ${sde.kind}; ${countNonPositive(xT)} of ${xT.size} values are <= 0 ` +
        `or NaN. Draw it from the SDE's log-normal prior: sde.prior.sample(shape, seed).`,
    );
  }
}

function checkInteger(v: number, fn: string, arg: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${fn}: ${arg} must be an integer >= ${min}, got ${v}.`);
}

function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}
