import * as tf from "@tensorflow/tfjs-core";
import type { GridOptions } from "./grids";
import { checkInteger, countNonPositive } from "./guards";
import type { Update } from "./update-plan";

/** What a sampler reports after each update. `x` is lent: read it inside the callback, do not dispose it. */
export interface StepInfo {
  /** Updates done so far, 1-based. */
  step: number;
  /** Total number of updates this call will make. */
  total: number;
  /** The time level at which the score was evaluated for this update. */
  t: number;
  /** The current state x (in ambient space, also for the samplers that integrate in log space). */
  x: tf.Tensor;
  /** Coordinates that are not strictly positive (<= 0 or NaN); reported by the sign-agnostic sampler. */
  nonPositive?: number;
}

/** Options shared by every time-based sampler. */
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

/** How {@link runLoop} reports: the sampler's options plus what the callback's `x` is. */
export interface LoopOptions extends BaseSamplerOptions {
  /** Count the non-positive coordinates of x for the callback (`StepInfo.nonPositive`). */
  countNonPositive?: boolean;
  /** Maps the loop's state to the x that the callback sees (`tf.exp` for a loop in log space). Default the state. */
  stateToX?: (state: tf.Tensor) => tf.Tensor;
}

/**
 * Runs `updates` through `step`, disposing every intermediate state, reporting progress, honouring the abort signal
 * and yielding to the event loop about every 50 ms so that timers (and aborts) can fire. The caller's `x0` is never
 * disposed.
 */
export async function runLoop(
  x0: tf.Tensor,
  updates: readonly Update[],
  options: LoopOptions,
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
      if (options.callback && ((i + 1) % every === 0 || i + 1 === updates.length)) report(options, { step: i + 1, total: updates.length, t: u.t }, x);
      await maybeYield();
    }
    options.signal?.throwIfAborted();
  } catch (e) {
    if (x !== x0) x.dispose();
    throw e;
  }
  return x === x0 ? tf.clone(x0) : x;
}

/**
 * Calls the callback. With `stateToX`, `info.x` is computed when the callback first reads it, and disposed after the
 * callback returns: a callback that reads only the step costs no tensor work.
 */
function report(options: LoopOptions, at: Omit<StepInfo, "x">, state: tf.Tensor): void {
  const { stateToX } = options;
  let x: tf.Tensor | undefined = stateToX ? undefined : state;
  const xOf = (): tf.Tensor => (x ??= tf.tidy(() => (stateToX as (s: tf.Tensor) => tf.Tensor)(state)));
  try {
    const info = { ...at } as StepInfo;
    Object.defineProperty(info, "x", { get: xOf, enumerable: true, configurable: true });
    if (options.countNonPositive) info.nonPositive = countNonPositive(xOf());
    options.callback?.(info);
  } finally {
    if (x !== undefined && x !== state) x.dispose();
  }
}

/**
 * Runs a loop in log space, y = log x (the Lamperti transform of GBM, docs/method.md, section 1): `loop` gets
 * y_T = log x_T and returns y_0; the result is x_0 = exp(y_0). Every intermediate is disposed, xT is not.
 */
export async function inLogSpace(xT: tf.Tensor, loop: (yT: tf.Tensor) => Promise<tf.Tensor>): Promise<tf.Tensor> {
  const yT = tf.log(xT);
  try {
    const y0 = await loop(yT);
    const x0 = tf.exp(y0);
    y0.dispose();
    return x0;
  } finally {
    yT.dispose();
  }
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
