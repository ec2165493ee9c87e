import * as tf from "@tensorflow/tfjs-core";

/**
 * Mean and variance of a log-normal variable with log X ~ N(loc, scale^2):
 *
 *     E[X] = exp(loc + scale^2 / 2),   Var[X] = (exp(scale^2) - 1) exp(2 loc + scale^2)
 *
 * For GBM's marginal this gives E[X_t | X_0] = X_0 exp(int_0^t mu), the solution of dE/dt = mu E.
 */
export function lognormalMoments(marginal: { loc: tf.Tensor; scale: tf.Tensor }): {
  mean: tf.Tensor;
  variance: tf.Tensor;
} {
  return tf.tidy(() => {
    const s2 = tf.square(marginal.scale);
    return {
      mean: tf.exp(tf.add(marginal.loc, tf.mul(0.5, s2))),
      variance: tf.mul(tf.expm1(s2), tf.exp(tf.add(tf.mul(2, marginal.loc), s2))),
    };
  });
}
