import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, perSample, type VESDE, type VPSDE } from "@dale/sde";
import { checkModelKind, checkReduction, checkedOutput, reduce, resolveDraws, sqrtWeights, type Draws, type Reduction } from "./common";

export interface DSMOptions extends Draws {
  sde: VPSDE | VESDE;
  /**
   * lambda(t) as a function of the marginal std b(t) = `sde.marginalStd(t)`. Default b^2 (score_sde's weighting:
   * noise prediction).
   */
  weighting?: (std: number, t: number) => number;
  /** Default "mean"; anything other than "mean" or "none" throws. */
  reduction?: Reduction;
}

/**
 * Denoising score matching for the additive SDEs (Vincent 2011; score_sde's `get_sde_loss_fn` with
 * `reduce_mean=False`): with x_t = a(t) x_0 + b(t) Z,
 *
 *     L = E lambda(t) || s_theta(x_t, t) + Z / b(t) ||^2,   lambda = b^2 by default: || b s_theta + Z ||^2
 *
 * with b(t) = `sde.marginalStd(t)`: sqrt(1 - e^-B(t)) for VP, sigma(t) for VE. Given times `t` must lie in (0, T]:
 * at t = 0, b = 0 and Z / b is not defined.
 *
 * @param model a Stein score network `(x, t[batch]) => score` (a function tagged `kind: "hyvarinen"` is refused)
 */
export function dsmLoss(model: (x: tf.Tensor, t: tf.Tensor) => tf.Tensor, x0: tf.Tensor, options: DSMOptions): tf.Tensor {
  const fn = "dsmLoss";
  const { sde, weighting = (std: number) => std * std } = options;
  if (sde?.domain !== "real") throw new Error(`${fn}: needs an additive SDE (vpSDE or veSDE), got ${sde?.kind ?? typeof sde}.`);
  const reduction = checkReduction(options.reduction, fn);
  checkModelKind(model, ["stein"], fn);
  assertFloat(x0, fn, "x0");
  const { t, times, noise, owned } = resolveDraws(x0, sde.T, { ...options, eps: options.eps ?? 1e-5 }, fn);
  try {
    return tf.tidy(() => {
      const stds = times.map((s) => sde.marginalStd(s));
      const b = perSample(stds, x0, fn);
      const sqrtLambda = perSample(sqrtWeights(stds, (s, i) => weighting(s, times[i] as number), fn), x0, fn);
      const xt = sde.perturb(x0, noise, t);
      const out = checkedOutput(model(xt, t), x0, fn);
      const residual = tf.mul(sqrtLambda, tf.add(out, tf.div(noise, b)));
      return reduce(tf.square(residual), reduction);
    });
  } finally {
    tf.dispose(owned);
  }
}
