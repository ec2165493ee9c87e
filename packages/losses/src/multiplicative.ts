import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, assertPositive, perSample, type GBM } from "@dale/sde";
import type { ExactDensity } from "@dale/scores";
import {
  modelHyvarinen,
  reduce,
  resolveDraws,
  type BatchScoreFn,
  type Draws,
  type Reduction,
} from "./common";
import { referenceWeighting, type Weighting } from "./weighting";

export interface MultiplicativeLossOptions extends Draws {
  sde: GBM;
  /** lambda(t). Default {@link referenceWeighting}, (sigma^2 t)^2. */
  weighting?: Weighting;
  reduction?: Reduction;
}

/**
 * The M-DSM target, the conditional Hyvarinen score of GBM's log-normal transition (docs/method.md, section 5), in the
 * numerically stable log form:
 *
 *     x_t * grad log p(x_t | x_0) = -1 - (log x_t - log x_0 - m(t)) / v(t)
 *
 * computed from logarithms, never from x_t / x_0. `t` is a number or a `[batch]` tensor.
 */
export function mdsmTarget(sde: GBM, x0: tf.Tensor, xt: tf.Tensor, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const times = Array.from(t.dataSync());
    const m = perSample(times.map((s) => sde.logMean(s)), x0);
    const v = perSample(times.map((s) => sde.logVariance(s)), x0);
    return tf.sub(-1, tf.div(tf.sub(tf.sub(tf.log(xt), tf.log(x0)), m), v));
  });
}

/**
 * Multiplicative denoising score matching, M-DSM (docs/method.md, section 5):
 *
 *     L = E_{t, x_0, Z} lambda(t) || x_t * s_theta(x_t, t) - x_t * grad log p(x_t | x_0) ||^2
 *
 * with x_t = x_0 exp(m(t) + sqrt(v(t)) Z), the squared norm summed over all elements of a sample and averaged over the
 * batch. With the reference weighting lambda = v^2 the residual is v (x_t s_theta + 1) + sqrt(v) Z: the network
 * learns to predict -Z / sqrt(v) - 1 in log space.
 *
 * @param model the score network; a Stein score unless tagged `kind: "hyvarinen"`
 * @param x0 clean data `[batch, ...]`, strictly positive
 * @example
 * const loss = mdsmLoss(net, x0, { sde: gbm(), seed: step });
 */
export function mdsmLoss(model: BatchScoreFn, x0: tf.Tensor, options: MultiplicativeLossOptions): tf.Tensor {
  return multiplicativeLoss("mdsmLoss", model, x0, options, (xt, t) => mdsmTarget(options.sde, x0, xt, t));
}

/**
 * Multiplicative explicit score matching, M-ESM: M-DSM with the true marginal Hyvarinen score x_t grad log p_t(x_t)
 * in place of the conditional one. M-DSM = M-ESM + a constant that does not depend on the model (Vincent 2011).
 */
export function mesmLoss(
  model: BatchScoreFn,
  x0: tf.Tensor,
  options: MultiplicativeLossOptions & { exact: ExactDensity },
): tf.Tensor {
  return multiplicativeLoss("mesmLoss", model, x0, options, (xt, t) => options.exact.hyvarinen(xt, t));
}

function multiplicativeLoss(
  fn: string,
  model: BatchScoreFn,
  x0: tf.Tensor,
  options: MultiplicativeLossOptions,
  target: (xt: tf.Tensor, t: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  assertFloat(x0, fn, "x0");
  assertPositive(x0, fn, "x0");
  const { sde, weighting = referenceWeighting, reduction = "mean" } = options;
  const { t, noise, owned } = resolveDraws(x0, sde.T, options, fn);
  try {
    return tf.tidy(() => {
      const xt = sde.perturb(x0, noise, t);
      const times = Array.from(t.dataSync());
      const sqrtLambda = perSample(times.map((s) => Math.sqrt(weighting(sde, s))), x0);
      const residual = tf.mul(sqrtLambda, tf.sub(modelHyvarinen(model, xt, t, fn), target(xt, t)));
      return reduce(tf.square(residual), reduction);
    });
  } finally {
    tf.dispose(owned);
  }
}
