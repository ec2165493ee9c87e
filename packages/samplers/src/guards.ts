import * as tf from "@tensorflow/tfjs-core";
import { assertAllFiniteAsync, assertPositiveAsync, type ScoreFn, type SDE } from "@dale/sde";

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
export async function checkStart(xT: tf.Tensor, sde: SDE, fn: string): Promise<void> {
  if (!(xT instanceof tf.Tensor)) throw new Error(`${fn}: xT must be a tf.Tensor, got ${typeof xT}.`);
  if (xT.dtype !== "float32") throw new Error(`${fn}: xT must have dtype float32, got ${xT.dtype}.`);
  // Read back asynchronously: a synchronous read of a WebGPU tensor goes through a canvas, and fails in a browser without a GPU.
  if (sde.domain === "positive") {
    await assertPositiveAsync(xT, fn, "xT", `Draw it from the SDE's log-normal prior: sde.prior.sample(shape, seed).`);
  } else {
    await assertAllFiniteAsync(xT, fn, "xT");
  }
}

/** Throws `${fn}: ${arg} must be an integer >= ${min}, got ${v}.` unless v is such an integer. */
export function checkInteger(v: number, fn: string, arg: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${fn}: ${arg} must be an integer >= ${min}, got ${v}.`);
}

/** The number of coordinates of `x` that are not strictly positive: <= 0, or NaN. */
export function countNonPositive(x: tf.Tensor): number {
  const n = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.greater(x, 0)), "int32")));
  const v = n.dataSync()[0] as number;
  n.dispose();
  return v;
}
