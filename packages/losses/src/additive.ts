import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, perSample, type VESDE, type VPSDE } from "@dale/sde";
import { reduce, resolveDraws, type Draws, type Reduction } from "./common";

export interface DSMOptions extends Draws {
  sde: VPSDE | VESDE;
  /**
   * lambda(t) as a function of the marginal std b(t) = `sde.marginalStd(t)`. Default b^2 (score_sde's weighting:
   * noise prediction).
   */
  weighting?: (std: number, t: number) => number;
  reduction?: Reduction;
}

/**
 * Denoising score matching for the additive SDEs (Vincent 2011; score_sde's `get_sde_loss_fn` with
 * `reduce_mean=False`): with x_t = a(t) x_0 + b(t) Z,
 *
 *     L = E lambda(t) || s_theta(x_t, t) + Z / b(t) ||^2,   lambda = b^2 by default: || b s_theta + Z ||^2
 *
 * with b(t) = `sde.marginalStd(t)`: sqrt(1 - e^-B(t)) for VP, sigma(t) for VE.
 *
 * @param model a Stein score network `(x, t[batch]) => score`
 */
export function dsmLoss(model: (x: tf.Tensor, t: tf.Tensor) => tf.Tensor, x0: tf.Tensor, options: DSMOptions): tf.Tensor {
  const fn = "dsmLoss";
  assertFloat(x0, fn, "x0");
  const { sde, weighting = (std: number) => std * std, reduction = "mean" } = options;
  if (sde.domain !== "real") throw new Error(`${fn}: needs an additive SDE, got ${sde.kind}.`);
  const { t, noise, owned } = resolveDraws(x0, sde.T, { ...options, eps: options.eps ?? 1e-5 }, fn);
  try {
    return tf.tidy(() => {
      const times = Array.from(t.dataSync());
      const stds = times.map((s) => sde.marginalStd(s));
      const b = perSample(stds, x0, fn);
      const sqrtLambda = perSample(stds.map((s, i) => Math.sqrt(weighting(s, times[i] as number))), x0, fn);
      const xt = sde.perturb(x0, noise, t);
      const out = model(xt, t);
      if (!tf.util.arraysEqual(out.shape, x0.shape)) {
        throw new Error(`${fn}: model(x, t) must return x's shape [${x0.shape}], got [${out.shape}].`);
      }
      const residual = tf.mul(sqrtLambda, tf.add(out, tf.div(noise, b)));
      return reduce(tf.square(residual), reduction);
    });
  } finally {
    tf.dispose(owned);
  }
}
