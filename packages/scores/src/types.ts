import type * as tf from "@tensorflow/tfjs-core";
import type { ScoreFn, Time } from "@dale/sde";

/**
 * A Stein score function, grad_x log p_t(x). Plain functions count as Stein scores, as every sampler's contract says.
 */
export type SteinScoreFn = ScoreFn;

/**
 * A Hyvarinen score function, h_t(x) = x * grad_x log p_t(x) (elementwise), tagged so that it cannot be passed where a
 * Stein score is expected. Make one with {@link hyvarinen}; turn it into a Stein score with {@link toStein}.
 */
export type HyvarinenScoreFn = ((x: tf.Tensor, t: number) => tf.Tensor) & { readonly kind: "hyvarinen" };

/** A log-space score function, grad_y log p_Y(y) at y = log x, as a function of y. */
export type LogScoreFn = ((y: tf.Tensor, t: number) => tf.Tensor) & { readonly kind: "log" };

/**
 * An exactly known density at every time of a forward SDE: its log-density and both kinds of score. Each takes a
 * time `t` as one number or as a `[batch]` tensor of per-sample times (as training draws them).
 */
export interface ExactDensity {
  /** log p_t(x) summed over all axes but the first: shape `[batch]`. */
  logProb(x: tf.Tensor, t: Time): tf.Tensor;
  /** grad_x log p_t(x). */
  stein: ((x: tf.Tensor, t: Time) => tf.Tensor) & { readonly kind?: "stein" };
  /** x * grad_x log p_t(x) (only meaningful on the positive orthant). */
  hyvarinen: ((x: tf.Tensor, t: Time) => tf.Tensor) & { readonly kind: "hyvarinen" };
}
