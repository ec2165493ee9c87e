import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, normalArray } from "@dale/sde";
import { eventLoopYielder } from "../run-loop";
import type { Denoiser, SolverOptions } from "./types";

// The loop and the steps that the sigma-space solvers share.

/** Evaluates the checked denoiser, counting it and reporting progress. */
export type Evaluate = (y: tf.Tensor, sigma: number) => tf.Tensor;

/** What a step sees: its index, the noise levels it goes between, the denoiser, and the previous step's carry. */
export interface StepContext {
  i: number;
  steps: number;
  sigmas: Float64Array;
  sigma: number;
  sigmaNext: number;
  evaluate: Evaluate;
  carry: tf.Tensor | undefined;
}

/** A step's result: the next state and, for multistep solvers, a tensor to hand to the next step. */
export type StepResult = tf.Tensor | { y: tf.Tensor; carry: tf.Tensor };

/** The Euler step y + (sigmaNext - sigma) (y - denoised) / sigma; into 0 it is the denoised value itself. */
export function sigmaEulerStep(y: tf.Tensor, denoised: tf.Tensor, sigma: number, sigmaNext: number): tf.Tensor {
  if (sigmaNext === 0) return denoised;
  return tf.add(y, tf.mul((sigmaNext - sigma) / sigma, tf.sub(y, denoised)));
}

/** One Heun step of EDM's Algorithm 1 from (y, sigma) to sigmaNext, Euler alone into 0. */
export function sigmaHeunStep(y: tf.Tensor, sigma: number, sigmaNext: number, evaluate: Evaluate): tf.Tensor {
  const denoised = evaluate(y, sigma);
  if (sigmaNext === 0) return denoised; // the Euler step into 0
  const d = tf.div(tf.sub(y, denoised), sigma);
  const dt = sigmaNext - sigma;
  const yEuler = tf.add(y, tf.mul(dt, d));
  const dNext = tf.div(tf.sub(yEuler, evaluate(yEuler, sigmaNext)), sigmaNext);
  return tf.add(y, tf.mul(dt / 2, tf.add(d, dNext)));
}

/** base + scale Z, with Z ~ N(0, I) drawn for step `stream` of `seed`. */
export function addScaledNoise(base: tf.Tensor, scale: number, seed: number, stream: number): tf.Tensor {
  if (scale === 0) return base;
  return tf.add(base, tf.mul(scale, tf.tensor(normalArray(base.size, seed, stream), base.shape)));
}

/**
 * Runs `step` over the noise levels: validates the inputs, checks every denoiser output, counts network evaluations
 * and reports each one, stops on the abort signal before each evaluation, yields to the event loop about every 50 ms
 * (as `runLoop` does), and disposes every intermediate. Each step runs inside `tf.tidy`. The caller's `y0` is never
 * disposed; the result is always a new tensor.
 */
export async function integrate(
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

/** The seed of a stochastic solver: an integer, default 0. */
export function checkSeed(seed: number | undefined, fn: string): number {
  if (seed === undefined) return 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  return seed;
}

export function checkSteps(v: number, fn: string, arg: string): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${arg} must be an integer >= 1, got ${v}.`);
}

/** Network evaluations of `steps` steps of a one-evaluation-per-step solver (Euler, DPM-Solver++(2M)). */
export function eulerNfe(steps: number): number {
  checkSteps(steps, "solvers.nfe", "steps");
  return steps;
}

/** Network evaluations of `steps` Heun steps: 2 per step, 1 on the last (Euler into 0). */
export function heunNfe(steps: number): number {
  checkSteps(steps, "solvers.nfe", "steps");
  return 2 * steps - 1;
}

/** The inverse of {@link eulerNfe}. */
export function eulerSteps(nfe: number): number {
  checkSteps(nfe, "solvers.stepsForNfe", "nfe");
  return nfe;
}

/** The inverse of {@link heunNfe}: the most steps within `nfe`. */
export function heunSteps(nfe: number): number {
  checkSteps(nfe, "solvers.stepsForNfe", "nfe");
  return Math.floor((nfe + 1) / 2);
}
