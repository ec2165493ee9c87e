import * as tf from "@tensorflow/tfjs-core";
import type { Time } from "./types";

/**
 * Evaluates a scalar function of time as a tensor that broadcasts against `x`: a number gives a scalar; a `[batch]`
 * tensor gives shape `[batch, 1, ..., 1]` with x's rank (see {@link perSample}).
 *
 * @example
 * const s = timeTensor(t, x, (u) => sde.marginalStd(u), "myLoss"); // t [batch], x [batch, h, w, c]: s [batch, 1, 1, 1]
 */
export function timeTensor(t: Time, x: tf.Tensor, f: (t: number) => number, fn: string): tf.Tensor {
  if (typeof t === "number") {
    if (!Number.isFinite(t)) throw new Error(`${fn}: t must be a finite number, got ${t}.`);
    return tf.scalar(f(t));
  }
  if (t.rank !== 1 || x.rank < 1 || t.shape[0] !== x.shape[0]) {
    throw new Error(
      `${fn}: a tensor t must be 1-D with one time per sample, shape [${x.shape[0]}], got [${t.shape.join(", ")}].`,
    );
  }
  return perSample(Float32Array.from(t.dataSync(), f), x, fn);
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
 * Throws unless every value of `x` is strictly positive (and finite). Geometric Brownian motion lives on the positive
 * orthant; the message says how to shift data there.
 */
export function assertPositive(x: tf.Tensor, fn: string, arg: string): void {
  const [min, bad] = tf.tidy(() => {
    const flat = tf.reshape(x, [-1]);
    return [tf.min(flat), tf.sum(tf.cast(tf.logicalNot(tf.greater(flat, 0)), "int32"))];
  });
  const minValue = (min.dataSync()[0] ?? 0) as number;
  const badCount = (bad.dataSync()[0] ?? 0) as number;
  min.dispose();
  bad.dispose();
  if (badCount > 0 || !Number.isFinite(minValue)) {
    throw new Error(
      `${fn}: ${arg} must be strictly positive, because geometric Brownian motion is defined on the positive ` +
        `orthant; ${badCount} of ${x.size} values are <= 0 or NaN (minimum ${minValue}). Shift the data first, ` +
        `e.g. x = pixels / 255 + 1 as the reference implementation does, or x - min(x) + 1 for other data.`,
    );
  }
}
