import * as tf from "@tensorflow/tfjs-core";
import { assertAllFinite, assertPositive, noiseLevel, timeAtNoiseLevel, type ScoreFn, type SDE } from "@dale/sde";

/** The noise level sigma(t) that the "karras" grid spaces evenly (defined in `@dale/sde`). */
export { noiseLevel };

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

/**
 * Where the time levels fall: `"uniform"` (t_k = T k / steps, score_sde's and the reference's grid), `"karras"`
 * (Karras et al. 2022, eq. 5: levels evenly spaced in noise level^(1/rho) from t = T down to `tMin`, then a last step
 * to 0), or the times themselves: `steps + 1` values falling strictly from at most T to exactly 0.
 */
export type TimeGrid = "uniform" | "karras" | readonly number[];

/** How a sampler discretises [0, T]. */
export interface GridOptions {
  /** Default `"uniform"`. See {@link TimeGrid}. */
  grid?: TimeGrid;
  /** The Karras grid's exponent rho. Default 7 (EDM). */
  rho?: number;
  /** The Karras grid's last level before 0. Default 1e-3 T (training draws t from [1e-3 T, T]). */
  tMin?: number;
}

/** Options shared by every sampler. */
export interface BaseSamplerOptions extends GridOptions {
  /** Number of time levels (network evaluations of the one-step samplers). */
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
  return uniformTimes(T, steps).subarray(0, steps);
}

/** The uniform grid's steps + 1 times T k / steps, k = steps down to 0. */
function uniformTimes(T: number, steps: number): Float64Array {
  return Float64Array.from({ length: steps + 1 }, (_, i) => (T * (steps - i)) / steps);
}

/**
 * The times a sampler visits: `steps + 1` values from T (or the first of an explicit grid) down to 0. Update k
 * evaluates the score at times[k] and steps by times[k] - times[k + 1].
 *
 * @example
 * timeGrid(gbm(), 10, { grid: "karras" }); // sqrt(v(t)) evenly spaced in its 7th root from 0.8 to 0.8 sqrt(1e-3)
 */
export function timeGrid(sde: SDE, steps: number, options: GridOptions = {}): Float64Array {
  checkInteger(steps, "sampler", "steps", 1);
  const { T } = sde;
  const grid = options.grid ?? "uniform";
  if (grid === "uniform") return uniformTimes(T, steps);
  if (grid === "karras") {
    const rho = options.rho ?? 7;
    const tMin = options.tMin ?? 1e-3 * T;
    if (!(rho > 0) || !Number.isFinite(rho)) throw new Error(`sampler: rho must be a positive number, got ${rho}.`);
    if (!(tMin > 0 && tMin < T)) throw new Error(`sampler: tMin must be in (0, T = ${T}), got ${tMin}.`);
    const sMax = noiseLevel(sde, T) ** (1 / rho);
    const sMin = noiseLevel(sde, tMin) ** (1 / rho);
    const times = new Float64Array(steps + 1);
    times[0] = T;
    for (let i = 1; i < steps; i++) times[i] = timeAtNoiseLevel(sde, (sMax + (i / (steps - 1)) * (sMin - sMax)) ** rho);
    if (steps > 1) times[steps - 1] = tMin;
    return times;
  }
  if (!Array.isArray(grid) && !ArrayBuffer.isView(grid)) {
    throw new Error(`sampler: grid must be "uniform", "karras" or an array of times, got ${JSON.stringify(grid)}.`);
  }
  const times = Float64Array.from(grid as ArrayLike<number>);
  if (times.length !== steps + 1) throw new Error(`sampler: an explicit grid needs steps + 1 = ${steps + 1} times, got ${times.length}.`);
  if (!(times[0]! <= T) || times[steps] !== 0) {
    throw new Error(`sampler: an explicit grid must start at or below T = ${T} and end at 0, got ${times[0]} ... ${times[steps]}.`);
  }
  for (let i = 0; i < steps; i++) {
    if (!(times[i]! > times[i + 1]!)) throw new Error(`sampler: an explicit grid must fall strictly; times[${i}] = ${times[i]}, times[${i + 1}] = ${times[i + 1]}.`);
  }
  return times;
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
    /** The times of {@link timeGrid}; default the uniform grid. */
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
 * The updates of a sampler call: its grid (see {@link timeGrid}) plus the reference schedule's options. The uniform
 * grid keeps the exact step T / steps.
 */
export function samplerUpdates(
  sde: SDE,
  options: GridOptions & { steps: number; delta?: number; repeats?: number; anneal?: number; denoiseSteps?: number; denoiseTime?: number; denoise?: boolean },
): Update[] {
  const { grid, rho, tMin, ...rest } = options;
  const uniform = grid === undefined || grid === "uniform";
  if (uniform && (rho !== undefined || tMin !== undefined)) throw new Error('sampler: rho and tMin shape the "karras" grid; give grid: "karras" with them.');
  return updateSchedule({ ...rest, T: sde.T, ...(uniform ? {} : { times: timeGrid(sde, options.steps, { grid, rho, tMin }) }) });
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
  const maybeYield = eventLoopYielder();
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
      await maybeYield();
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

/**
 * The score with its output checked on every call: a float32 tensor of x's shape. The check reads no data (shape
 * and dtype only), so a score that misbehaves at some time level, not only the first, fails with an error naming
 * the sampler and the time instead of broadcasting or upcasting silently.
 */
export function checkedScore(score: ScoreFn, fn: string): ScoreFn {
  const kind = (score as { kind?: string }).kind;
  if (typeof score !== "function") throw new Error(`${fn}: score must be a function (x, t) => tf.Tensor.`);
  if (kind !== undefined && kind !== "stein") {
    throw new Error(`${fn}: score must be a Stein score (grad log p); got a "${kind}" score. Wrap it: toStein(score).`);
  }
  return (x, t) => {
    const s: unknown = score(x, t);
    if (!(s instanceof tf.Tensor) || s.dtype !== "float32" || !tf.util.arraysEqual(s.shape, x.shape)) {
      const got = s instanceof tf.Tensor ? `a ${s.dtype} tensor of shape [${s.shape}]` : typeof s;
      throw new Error(`${fn}: score(x, t) must return a float32 tensor of x's shape [${x.shape}], got ${got} at t = ${t}.`);
    }
    return s;
  };
}

/**
 * Checks xT: a float32 tensor of finite values, and strictly positive for the GBM samplers. Reads one number.
 */
export function checkStart(xT: tf.Tensor, sde: SDE, fn: string): void {
  if (!(xT instanceof tf.Tensor)) throw new Error(`${fn}: xT must be a tf.Tensor, got ${typeof xT}.`);
  if (xT.dtype !== "float32") throw new Error(`${fn}: xT must have dtype float32, got ${xT.dtype}.`);
  if (sde.domain === "positive") {
    assertPositive(xT, fn, "xT", `Draw it from the SDE's log-normal prior: sde.prior.sample(shape, seed).`);
  } else {
    assertAllFinite(xT, fn, "xT");
  }
}

function checkInteger(v: number, fn: string, arg: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${fn}: ${arg} must be an integer >= ${min}, got ${v}.`);
}

/**
 * A function to await once per iteration of a long loop: it yields to the event loop when more than `ms` have passed
 * since its last yield, so that timers and abort signals can fire without a yield on every iteration.
 */
export function eventLoopYielder(ms = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last > ms) {
      await yieldToEventLoop();
      last = performance.now();
    }
  };
}

/** Resolves on the next turn of the event loop, so that timers and aborts can fire during a long sampling loop. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}
