import * as tf from "@tensorflow/tfjs-core";
import type { Time } from "./time";

/**
 * Evaluates a scalar function of time as a tensor that broadcasts against `x`: a number gives a scalar; a `[batch]`
 * tensor, or the per-sample times that {@link checkTimes} returned, gives shape `[batch, 1, ..., 1]` with x's rank
 * (see {@link perSample}). Every time must be finite; a tensor's values are read once.
 *
 * @example
 * const s = timeTensor(t, x, (u) => sde.marginalStd(u), "myLoss"); // t [batch], x [batch, h, w, c]: s [batch, 1, 1, 1]
 */
export function timeTensor(t: Time | readonly number[], x: tf.Tensor, f: (t: number) => number, fn: string): tf.Tensor {
  if (typeof t !== "number" && (x.rank < 1 || x.shape[0] === undefined)) {
    throw new Error(`${fn}: x must be [batch, ...] to take one time per sample, got shape [${x.shape}].`);
  }
  const times = isTimeArray(t) ? checkTimeArray(t, { fn, batch: x.shape[0] }) : checkTimes(t, { fn, batch: x.shape[0] });
  if (typeof times === "number") return tf.scalar(f(times));
  return perSample(Float32Array.from(times, f), x, fn);
}

/** Options of {@link checkTimes}. */
export interface TimeCheck {
  /** The calling function, named first in every error. */
  fn: string;
  /** The argument's name in errors. Default "t". */
  arg?: string;
  /**
   * End time of the process. With it, every time must lie in (0, T] or [0, T] as `min` says; without it, every time
   * must only be finite.
   */
  T?: number;
  /**
   * `"positive"` (the default): 0 < t <= T, wherever a network, a log or a division by v(t) is evaluated (losses);
   * `"non-negative"`: 0 <= t <= T, where t = 0 is well defined (marginals, exact scores of smooth densities).
   */
  min?: "positive" | "non-negative";
  /** A tensor t must have shape `[batch]`: one time per sample of x `[batch, ...]`. */
  batch?: number;
}

/**
 * Checks times, a number or a `[batch]` tensor of per-sample times, and returns them: the number itself, or the
 * tensor's values as numbers (read once, so that callers need not read the tensor again). Every time must be finite
 * and, with `T`, lie in (0, T] (`min: "positive"`, the default) or [0, T] (`min: "non-negative"`). The upper end
 * allows float32's rounding of T, the largest time a float32 tensor can hold for it. The error names the function,
 * the argument, the interval and the first bad time with its index.
 *
 * @example
 * const times = checkTimes(t, { fn: "myLoss", T: sde.T, batch: x0.shape[0] }); // throws on t <= 0, t > T or NaN
 * // myLoss: t must be in (0, T = 1], got 0 at index 2.
 */
export function checkTimes(t: Time, check: TimeCheck): number | number[] {
  const arg = check.arg ?? "t";
  if (typeof t === "number") {
    checkTimeArray([t], check, false);
    return t;
  }
  if (!(t instanceof tf.Tensor)) {
    throw new Error(`${check.fn}: ${arg} must be a number or a [batch] tensor of per-sample times, got ${describe(t)}.`);
  }
  if (t.rank !== 1 || (check.batch !== undefined && t.shape[0] !== check.batch)) {
    const want = check.batch === undefined ? "" : `, shape [${check.batch}]`;
    throw new Error(`${check.fn}: a tensor ${arg} must be 1-D with one time per sample${want}, got [${t.shape.join(", ")}].`);
  }
  return checkTimeArray(Array.from(t.dataSync()), check);
}

function isTimeArray(t: unknown): t is readonly number[] {
  return Array.isArray(t);
}

/** Checks numbers already read; `indexed` says whether to name the index of a bad one (a tensor's or an array's). */
function checkTimeArray(times: readonly number[], check: TimeCheck, indexed = true): number[] {
  const { fn, T } = check;
  const arg = check.arg ?? "t";
  if (indexed && check.batch !== undefined && times.length !== check.batch) {
    throw new Error(`${fn}: ${arg} must hold one time per sample of x (${check.batch}), got ${times.length}.`);
  }
  const positive = (check.min ?? "positive") === "positive";
  // float32 rounds T up to at most Math.fround(T); any float64 time <= T rounds to at most that.
  const hi = T === undefined ? Infinity : Math.max(T, Math.fround(T));
  for (let i = 0; i < times.length; i++) {
    const v = times[i] as number;
    const ok = T === undefined ? Number.isFinite(v) : (positive ? v > 0 : v >= 0) && v <= hi;
    if (ok) continue;
    const at = indexed ? ` at index ${i}` : "";
    if (T === undefined) {
      throw new Error(indexed ? `${fn}: ${arg} must be finite, got ${v}${at}.` : `${fn}: ${arg} must be a finite number, got ${v}.`);
    }
    throw new Error(`${fn}: ${arg} must be in ${positive ? "(0" : "[0"}, T = ${T}], got ${v}${at}.`);
  }
  return times as number[];
}

/**
 * One value per sample, `[batch]`, shaped `[batch, 1, ..., 1]` with x's rank so that it broadcasts against
 * x `[batch, ...]`: the one helper for per-sample times, noise levels and weights, whatever the data's rank.
 * A tensor is reshaped (its dtype kept), numbers become a float32 tensor. `fn` names the caller in error messages.
 *
 * @example
 * perSample([0.1, 0.2], tf.zeros([2, 28, 28, 1])); // shape [2, 1, 1, 1]
 */
export function perSample(values: tf.Tensor | Float32Array | number[], x: tf.Tensor, fn = "perSample"): tf.Tensor {
  const batch = x.shape[0];
  if (x.rank < 1 || batch === undefined) throw new Error(`${fn}: x must be [batch, ...], got shape [${x.shape}].`);
  const isTensor = values instanceof tf.Tensor;
  if ((isTensor && values.rank !== 1) || (isTensor ? values.size : values.length) !== batch) {
    const got = isTensor ? `shape [${values.shape}]` : `${values.length} values`;
    throw new Error(`${fn}: need one value per sample of x (shape [${batch}]), got ${got}.`);
  }
  const shape = [batch, ...new Array<number>(x.rank - 1).fill(1)];
  return isTensor ? tf.reshape(values, shape) : tf.tensor(values, shape);
}

/** Throws unless `x` is a float32 tensor. */
export function assertFloat(x: unknown, fn: string, arg: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: ${arg} must be a tf.Tensor, got ${typeof x}.`);
  if (x.dtype !== "float32") throw new Error(`${fn}: ${arg} must have dtype float32, got ${x.dtype}.`);
}

/** Throws unless `a` and `b` have the same shape. */
export function assertSameShape(a: tf.Tensor, b: tf.Tensor, fn: string, argA: string, argB: string): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new Error(`${fn}: ${argA} and ${argB} must have the same shape, got [${a.shape}] and [${b.shape}].`);
  }
}

/**
 * Throws unless `value` is one of `allowed`: an enumerated option, checked at run time so that a typo or a value from
 * an untyped caller (JSON, a command line) is an error that lists the choices, never a silent default.
 *
 * @example
 * assertOneOf(options.reduction, ["mean", "none"], "mdsmLoss", "reduction");
 * // mdsmLoss: reduction must be one of "mean", "none", got "sum".
 */
export function assertOneOf<const T extends string>(value: unknown, allowed: readonly T[], fn: string, arg: string): asserts value is T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new Error(`${fn}: ${arg} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}.`);
  }
}

const SHIFT_HINT =
  "Shift the data first, e.g. x = pixels / 255 + 1 as the reference implementation does, or x - min(x) + 1 for other data.";

/**
 * Throws unless every value of `x` is finite and strictly positive: geometric Brownian motion lives on the positive
 * orthant, and +Infinity or NaN would turn logs and moments into NaN. The message counts the bad values, shows one
 * with its index, and ends with `hint` (by default, how to shift data there). Reads one number on success.
 */
export function assertPositive(x: tf.Tensor, fn: string, arg: string, hint = SHIFT_HINT): void {
  assertNonEmpty(x, fn, arg);
  const bad = countBad(x, true);
  if (bad === 0) return;
  throw new Error(notPositiveMessage(x, fn, arg, bad, firstBad(x, true, arg), hint));
}

/** Throws unless every value of `x` is finite (not NaN, not +-Infinity); the message counts them and shows one. */
export function assertAllFinite(x: tf.Tensor, fn: string, arg: string): void {
  assertNonEmpty(x, fn, arg);
  const bad = countBad(x, false);
  if (bad === 0) return;
  throw new Error(notFiniteMessage(x, fn, arg, bad, firstBad(x, false, arg)));
}

/**
 * {@link assertPositive} for async code: reads its count with `await data()` instead of `dataSync()`. On WebGPU a
 * synchronous read goes through a canvas, which is slow, and in headless or GPU-less browsers returns zeros and loses
 * the device; every async entry point (the samplers) checks with this one.
 */
export async function assertPositiveAsync(x: tf.Tensor, fn: string, arg: string, hint = SHIFT_HINT): Promise<void> {
  assertNonEmpty(x, fn, arg);
  const bad = await countBadAsync(x, true);
  if (bad === 0) return;
  throw new Error(notPositiveMessage(x, fn, arg, bad, await firstBadAsync(x, true, arg), hint));
}

/** {@link assertAllFinite} for async code, reading with `await data()` (see {@link assertPositiveAsync}). */
export async function assertAllFiniteAsync(x: tf.Tensor, fn: string, arg: string): Promise<void> {
  assertNonEmpty(x, fn, arg);
  const bad = await countBadAsync(x, false);
  if (bad === 0) return;
  throw new Error(notFiniteMessage(x, fn, arg, bad, await firstBadAsync(x, false, arg)));
}

/** The message of the positivity checks, sync and async: `bad` values of x are not > 0 and finite; `where` shows one. */
function notPositiveMessage(x: tf.Tensor, fn: string, arg: string, bad: number, where: string, hint: string): string {
  return (
    `${fn}: ${arg} must be strictly positive and finite, because geometric Brownian motion is defined on the positive ` +
    `orthant; ${bad} of ${x.size} values are not (${where}). ${hint}`
  );
}

/** The message of the finiteness checks, sync and async. */
function notFiniteMessage(x: tf.Tensor, fn: string, arg: string, bad: number, where: string): string {
  return `${fn}: ${arg} must be finite; ${bad} of ${x.size} values are NaN or infinite (${where}).`;
}

/**
 * Throws unless `x` holds at least one value. A batch of zero samples has no meaning for a process, a loss or a
 * sampler, and reductions over it on the wasm backend read uninitialised memory (made-up counts and sums).
 */
export function assertNonEmpty(x: tf.Tensor, fn: string, arg: string): void {
  if (x.size === 0) throw new Error(`${fn}: ${arg} is empty (shape [${x.shape}]); expected at least one value.`);
}

/** Elementwise: not finite, or (with `positive`) not > 0. NaN fails every comparison, so it is bad either way. */
function badMask(flat: tf.Tensor, positive: boolean): tf.Tensor {
  const f = tf.cast(flat, "float32"); // so that Infinity is representable in the comparison
  const finite = tf.less(tf.abs(f), Infinity);
  return tf.logicalNot(positive ? tf.logicalAnd(finite, tf.greater(f, 0)) : finite);
}

const badCount = (x: tf.Tensor, positive: boolean) => tf.tidy(() => tf.sum(tf.cast(badMask(tf.reshape(x, [-1]), positive), "int32")));

function countBad(x: tf.Tensor, positive: boolean): number {
  const n = badCount(x, positive);
  const v = n.dataSync()[0] as number;
  n.dispose();
  return v;
}

async function countBadAsync(x: tf.Tensor, positive: boolean): Promise<number> {
  const n = badCount(x, positive);
  try {
    return (await n.data())[0] as number;
  } finally {
    n.dispose();
  }
}

/** The flat index of the first bad value, and that value. */
const firstBadAt = (x: tf.Tensor, positive: boolean) =>
  tf.tidy(() => {
    const flat = tf.reshape(x, [-1]);
    const i = tf.argMax(tf.cast(badMask(flat, positive), "int32"));
    return [i, tf.gather(flat, i)] as const;
  });

/** "x0[1, 0] = Infinity": one bad value and where it is (only on the error path). */
function firstBad(x: tf.Tensor, positive: boolean, arg: string): string {
  const [index, value] = firstBadAt(x, positive);
  const i = index.dataSync()[0] as number;
  const v = value.dataSync()[0] as number;
  tf.dispose([index, value]);
  return badLocation(x, arg, i, v);
}

async function firstBadAsync(x: tf.Tensor, positive: boolean, arg: string): Promise<string> {
  const [index, value] = firstBadAt(x, positive);
  try {
    return badLocation(x, arg, (await index.data())[0] as number, (await value.data())[0] as number);
  } finally {
    tf.dispose([index, value]);
  }
}

function badLocation(x: tf.Tensor, arg: string, i: number, v: number): string {
  const loc: number[] = [];
  let rest = i;
  for (let d = x.rank - 1; d >= 0; d--) {
    const size = x.shape[d] as number;
    loc.unshift(rest % size);
    rest = Math.floor(rest / size);
  }
  return `${arg}${x.rank > 0 ? `[${loc.join(", ")}]` : ""} = ${v}`;
}

function describe(v: unknown): string {
  if (v instanceof tf.Tensor) return `a ${v.dtype} tensor of shape [${v.shape}]`;
  if (typeof v === "string") return JSON.stringify(v);
  return typeof v === "number" || typeof v === "boolean" || v === undefined || v === null ? String(v) : typeof v;
}
