import * as tf from "@tensorflow/tfjs-core";
import type { ScoreFn } from "@dale/sde";
import type { HyvarinenScoreFn, LogScoreFn, SteinScoreFn } from "./types";

/** h = x * s: the Hyvarinen score from the Stein score (docs/method.md, section 2). */
export function hyvarinenFromStein(x: tf.Tensor, stein: tf.Tensor): tf.Tensor {
  return tf.mul(x, stein);
}

/** s = h / x: the Stein score from the Hyvarinen score, on the positive orthant. */
export function steinFromHyvarinen(x: tf.Tensor, h: tf.Tensor): tf.Tensor {
  return tf.div(h, x);
}

/** grad_y log p_Y(y) = h(x) + 1 with y = log x: the change of variables' Jacobian adds one (docs/method.md, section 2). */
export function logScoreFromHyvarinen(h: tf.Tensor): tf.Tensor {
  return tf.add(h, 1);
}

/** h(x) = grad_y log p_Y(y) - 1. */
export function hyvarinenFromLogScore(g: tf.Tensor): tf.Tensor {
  return tf.sub(g, 1);
}

/**
 * Tags a function as a Hyvarinen score, x * grad log p. Samplers reject it until it is converted with {@link toStein}.
 *
 * @example
 * const h = hyvarinen((x, t) => tf.sub(-1, tf.log(x))); // log X ~ N(0, 1)
 * await daleLangevin(toStein(h), xT, { sde, steps: 100 });
 */
export function hyvarinen(fn: (x: tf.Tensor, t: number) => tf.Tensor): HyvarinenScoreFn {
  return Object.assign((x: tf.Tensor, t: number) => fn(x, t), { kind: "hyvarinen" as const });
}

/** Tags a function of y = log x as a log-space score, grad_y log p_Y(y). */
export function logScore(fn: (y: tf.Tensor, t: number) => tf.Tensor): LogScoreFn {
  return Object.assign((y: tf.Tensor, t: number) => fn(y, t), { kind: "log" as const });
}

/** The Stein score s(x, t) = h(x, t) / x of a Hyvarinen or log-space score function. */
export function toStein(score: HyvarinenScoreFn | LogScoreFn): SteinScoreFn {
  if (score.kind === "hyvarinen") return (x, t) => tf.tidy(() => steinFromHyvarinen(x, score(x, t)));
  return (x, t) => tf.tidy(() => steinFromHyvarinen(x, hyvarinenFromLogScore(score(tf.log(x), t))));
}

/** The Hyvarinen score h(x, t) = x * s(x, t) of a Stein score function. */
export function toHyvarinen(score: ScoreFn): HyvarinenScoreFn {
  return hyvarinen((x, t) => tf.tidy(() => hyvarinenFromStein(x, score(x, t))));
}
