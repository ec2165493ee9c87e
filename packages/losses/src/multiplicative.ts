import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, assertPositive, assertSameShape, checkTimes, perSample, timeTensor, type GBM, type Time } from "@dale/sde";
import type { ExactDensity } from "@dale/scores";
import {
  checkModelKind,
  checkReduction,
  modelHyvarinen,
  reduce,
  resolveDraws,
  sqrtWeights,
  type BatchScoreFn,
  type Draws,
  type Reduction,
} from "./common";
import { referenceWeighting, type Weighting } from "./weighting";

export interface MultiplicativeLossOptions extends Draws {
  sde: GBM;
  /** lambda(t). Default {@link referenceWeighting}, (sigma^2 t)^2. */
  weighting?: Weighting;
  /** Default "mean"; anything other than "mean" or "none" throws. */
  reduction?: Reduction;
}

/**
 * The M-DSM target, the conditional Hyvarinen score of GBM's log-normal transition (docs/method.md, section 5), in the
 * numerically stable log form:
 *
 *     x_t * grad log p(x_t | x_0) = -1 - (log x_t - log x_0 - m(t)) / v(t)
 *
 * computed from logarithms, never from x_t / x_0. `t` is a number or a `[batch]` tensor, in (0, T]: v(0) = 0.
 */
export function mdsmTarget(sde: GBM, x0: tf.Tensor, xt: tf.Tensor, t: Time): tf.Tensor {
  const fn = "mdsmTarget";
  assertFloat(x0, fn, "x0");
  assertFloat(xt, fn, "xt");
  assertSameShape(x0, xt, fn, "x0", "xt");
  return conditionalHyvarinen(sde, x0, xt, checkTimes(t, { fn, T: sde.T, min: "positive", batch: x0.shape[0] }), fn);
}

/** The M-DSM target at times already checked to lie in (0, T]. */
function conditionalHyvarinen(sde: GBM, x0: tf.Tensor, xt: tf.Tensor, times: number | number[], fn: string): tf.Tensor {
  return tf.tidy(() => {
    const m = timeTensor(times, x0, (s) => sde.logMean(s), fn);
    const v = timeTensor(times, x0, (s) => sde.logVariance(s), fn);
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
 * learns to predict -Z / sqrt(v) - 1 in log space. Given times `t` must lie in (0, T]: at t = 0 the target divides by
 * v(0) = 0.
 *
 * @param model the score network; a Stein score unless tagged `kind: "hyvarinen"`
 * @param x0 clean data `[batch, ...]`, strictly positive and finite
 * @example
 * const loss = mdsmLoss(net, x0, { sde: gbm(), seed: step });
 */
export function mdsmLoss(model: BatchScoreFn, x0: tf.Tensor, options: MultiplicativeLossOptions): tf.Tensor {
  const fn = "mdsmLoss";
  return multiplicativeLoss(fn, model, x0, options, (xt, _t, times) => conditionalHyvarinen(options.sde, x0, xt, times, fn));
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
  const fn = "mesmLoss";
  if (typeof options?.exact?.hyvarinen !== "function") {
    throw new Error(`${fn}: options.exact must be an ExactDensity (e.g. lognormalMixtureScore(sde, mixture)), got ${typeof options?.exact}.`);
  }
  return multiplicativeLoss(fn, model, x0, options, (xt, t) => options.exact.hyvarinen(xt, t));
}

function multiplicativeLoss(
  fn: string,
  model: BatchScoreFn,
  x0: tf.Tensor,
  options: MultiplicativeLossOptions,
  target: (xt: tf.Tensor, t: tf.Tensor, times: number[]) => tf.Tensor,
): tf.Tensor {
  const { sde, weighting = referenceWeighting } = options;
  if (sde?.kind !== "gbm") throw new Error(`${fn}: options.sde must be a GBM (gbm() of @dale/sde), got ${sde?.kind ?? typeof sde}.`);
  const reduction = checkReduction(options.reduction, fn);
  checkModelKind(model, ["stein", "hyvarinen"], fn);
  assertFloat(x0, fn, "x0");
  assertPositive(x0, fn, "x0");
  const { t, times, noise, owned } = resolveDraws(x0, sde.T, options, fn);
  try {
    return tf.tidy(() => {
      const sqrtLambda = perSample(sqrtWeights(times, (s) => weighting(sde, s), fn), x0, fn);
      const xt = sde.perturb(x0, noise, t);
      const residual = tf.mul(sqrtLambda, tf.sub(modelHyvarinen(model, xt, t, fn), target(xt, t, times)));
      return reduce(tf.square(residual), reduction);
    });
  } finally {
    tf.dispose(owned);
  }
}
