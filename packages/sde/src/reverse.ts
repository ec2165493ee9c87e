import * as tf from "@tensorflow/tfjs-core";
import type { GBM } from "./gbm";
import type { ScoreFn, SDE } from "./types";

/**
 * The drift and diffusion of a reverse-time process, written in forward time t (dt < 0 when integrating). An
 * integrator steps it from t to t - delta; Euler-Maruyama, for instance, is
 *
 *     x_{t - delta} = x_t - delta drift(x_t, t) + diffusion(x_t, t) sqrt(delta) Z,   Z ~ N(0, I)
 *
 * (`eulerMaruyamaStep` and `heunStep` of `@dale/samplers`).
 */
export interface ReverseSDE {
  /** Drift at (x, t), with x's shape. */
  drift(x: tf.Tensor, t: number): tf.Tensor;
  /** Elementwise diffusion at (x, t), with x's shape; zero for the probability-flow ODE. */
  diffusion(x: tf.Tensor, t: number): tf.Tensor;
  /**
   * The diffusion as one number g(t), present when it is the same for every coordinate and every state: sigma(t) for
   * `reverseLog`, 0 for every probability-flow ODE. An integrator then scales its noise by a number instead of forming
   * `diffusion(x, t)`, and skips the noise where it is 0. Absent where the diffusion depends on x (GBM in ambient space),
   * and in `reverse`'s SDE for any process, since the `SDE` interface does not say whether g depends on x.
   */
  scalarDiffusion?(t: number): number;
}

export interface ReverseOptions {
  /** Return the probability-flow ODE (same marginals, no noise) instead of the reverse SDE. Default false. */
  probabilityFlow?: boolean;
}

/**
 * The reverse-time SDE of Anderson (1982) in ambient space, for a diagonal diffusion g(x, t):
 *
 *     dX = [ f(X, t) - c div(g g^T)(X, t) - c g(X, t)^2 score(X, t) ] dt + g(X, t) dW_bar,
 *
 * with c = 1, or c = 1/2 and no noise for the probability-flow ODE (Song et al. 2021). For GBM, with
 * h = x * score the Hyvarinen score, this is docs/method.md, section 3:
 *
 *     dX = X [ (mu - 2 sigma^2) - sigma^2 h(X, t) ] dt + sigma X dW_bar
 *
 * @param score the Stein score grad_x log p_t(x)
 * @example
 * const rev = reverse(gbm(), exactScore);
 * const f = rev.drift(x, 0.5);
 */
export function reverse(sde: SDE, score: ScoreFn, options: ReverseOptions = {}): ReverseSDE {
  const c = options.probabilityFlow ? 0.5 : 1;
  return {
    drift: (x, t) =>
      tf.tidy(() => {
        const g = sde.diffusion(x, t);
        const correction = tf.add(sde.diffusionDivergence(x, t), tf.mul(tf.square(g), score(x, t)));
        return tf.sub(sde.drift(x, t), tf.mul(c, correction));
      }),
    diffusion: (x, t) => (options.probabilityFlow ? tf.zerosLike(x) : sde.diffusion(x, t)),
    ...(options.probabilityFlow ? { scalarDiffusion: () => 0 } : {}),
  };
}

/**
 * The reverse-time GBM in log space, Y = log X (the Lamperti transform; docs/method.md, section 3):
 *
 *     dY = [ (mu - 3 sigma^2 / 2) - sigma^2 h(exp Y, t) ] dt + sigma dW_bar
 *
 * and its probability-flow ODE, dY/dt = (mu - sigma^2) - (sigma^2 / 2) h(exp Y, t). h is the Hyvarinen score
 * x * score(x, t). The diffusion sigma(t) does not depend on Y (`scalarDiffusion` gives it as a number), so
 * Euler-Maruyama in Y is exact in its noise term, and exp maps every step back to the positive orthant.
 *
 * @param score the Stein score of X (not of Y)
 */
export function reverseLog(sde: GBM, score: ScoreFn, options: ReverseOptions = {}): ReverseSDE {
  return {
    drift: (y, t) =>
      tf.tidy(() => {
        const mu = sde.mu.value(t);
        const s2 = sde.sigma.value(t) ** 2;
        const x = tf.exp(y);
        const h = tf.mul(x, score(x, t));
        return options.probabilityFlow
          ? tf.sub(mu - s2, tf.mul(s2 / 2, h))
          : tf.sub(mu - 1.5 * s2, tf.mul(s2, h));
      }),
    diffusion: (y, t) =>
      options.probabilityFlow ? tf.zerosLike(y) : tf.fill(y.shape, sde.sigma.value(t)),
    scalarDiffusion: (t) => (options.probabilityFlow ? 0 : sde.sigma.value(t)),
  };
}
