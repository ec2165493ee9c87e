import * as tf from "@tensorflow/tfjs-core";
import { normalArray, type GBM, type ScoreFn } from "@dale/sde";
import {
  checkStart,
  checkedScore,
  runLoop,
  samplerUpdates,
  type BaseSamplerOptions,
  type ScheduleOptions,
  type Update,
} from "./loop";

/** Options of the GBM samplers, including the reference implementation's schedule (docs/method.md, section 7). */
export interface GBMSamplerOptions extends BaseSamplerOptions, ScheduleOptions {
  /** The forward process; its mu(t) and sigma(t) enter every update. */
  sde: GBM;
  /**
   * The last update injects no noise, as score_sde's `denoise` and the additive samplers here. Default true: on the
   * uniform grid the last step otherwise leaves noise of std sigma sqrt(T / steps) in log space (0.11 at 50 steps of
   * the reference process), which shows as speckle.
   */
  denoise?: boolean;
}

/**
 * The Dale-Langevin sampler (docs/method.md, section 4): Euler-Maruyama for the reverse SDE in log space, so that every
 * update multiplies x by a positive factor and signs never change. With h = x * score(x, t), Z ~ N(0, I):
 *
 *     x <- x * exp( delta sigma^2 h(x, t) - delta (mu - 3 sigma^2 / 2) + eta sigma sqrt(delta) Z )
 *
 * where eta is the annealed noise scale (1 by default). It is exponentiated gradient descent with Langevin noise:
 * mirrored Langevin dynamics under the mirror map of EGD.
 *
 * @param score Stein score grad_x log p_t(x); wrap a Hyvarinen score with `toStein` from `@dale/scores`
 * @param xT the state at t = T, strictly positive, e.g. `sde.prior.sample(shape, seed)`
 * @returns the state at t = 0, with xT's shape
 * @example
 * const x0 = await daleLangevin(score, sde.prior.sample([64, 1], 1), { sde, steps: 1000, seed: 0 });
 */
export async function daleLangevin(score: ScoreFn, xT: tf.Tensor, options: GBMSamplerOptions): Promise<tf.Tensor> {
  const fn = "daleLangevin";
  const { sde } = options;
  checkStart(xT, sde, fn);
  const s = checkedScore(score, fn);
  const updates = samplerUpdates(sde, { ...options, denoise: options.denoise ?? true });
  return runLoop(xT, updates, options, (x, u, i) => {
    const { mu, sigma2 } = coefficients(sde, u);
    const h = tf.mul(x, s(x, u.t));
    const logFactor = tf.add(tf.mul(u.delta * sigma2, h), -u.delta * (mu - 1.5 * sigma2));
    return tf.mul(x, tf.exp(addNoise(logFactor, u, Math.sqrt(sigma2 * u.delta), options.seed ?? 0, i)));
  });
}

/**
 * The sign-agnostic sampler (docs/method.md, section 4): Euler-Maruyama for the reverse SDE in ambient space.
 *
 *     x <- x * [ (1 + 2 delta sigma^2) - delta mu + delta sigma^2 h(x, t) + eta sigma sqrt(delta) Z ]
 *
 * The bracket can go negative at coarse steps, so coordinates can leave the positive orthant; the callback reports
 * how many have (`info.nonPositive`).
 *
 * @returns the state at t = 0, with xT's shape (values may be <= 0, or NaN where the score was evaluated there)
 */
export async function signAgnostic(score: ScoreFn, xT: tf.Tensor, options: GBMSamplerOptions): Promise<tf.Tensor> {
  const fn = "signAgnostic";
  const { sde } = options;
  checkStart(xT, sde, fn);
  const s = checkedScore(score, fn);
  const updates = samplerUpdates(sde, { ...options, denoise: options.denoise ?? true });
  return runLoop(xT, updates, { ...options, countNonPositive: true }, (x, u, i) => {
    const { mu, sigma2 } = coefficients(sde, u);
    const h = tf.mul(x, s(x, u.t));
    const bracket = tf.add(tf.mul(u.delta * sigma2, h), 1 + 2 * u.delta * sigma2 - u.delta * mu);
    return tf.mul(x, addNoise(bracket, u, Math.sqrt(sigma2 * u.delta), options.seed ?? 0, i));
  });
}

/** Options of the probability-flow ODE solver. */
export interface ProbabilityFlowOptions extends Omit<BaseSamplerOptions, "seed"> {
  sde: GBM;
}

/**
 * The probability-flow ODE of GBM, integrated in log space with Heun's method (Karras et al. 2022, Algorithm 1):
 *
 *     dy/dt = F(y, t) = (mu - sigma^2) - (sigma^2 / 2) h(exp y, t),   y = log x
 *
 * It has the reverse SDE's marginals, injects no noise (deterministic given xT), and keeps signs. Each step from t to
 * t - delta takes an Euler predictor and a trapezoidal corrector; the last step, which ends at t = 0 where a trained
 * network is never queried, is a plain Euler step. Network evaluations: 2 steps - 1.
 */
export async function probabilityFlow(score: ScoreFn, xT: tf.Tensor, options: ProbabilityFlowOptions): Promise<tf.Tensor> {
  const fn = "probabilityFlow";
  const { sde } = options;
  checkStart(xT, sde, fn);
  const s = checkedScore(score, fn);
  const F = (x: tf.Tensor, t: number) => {
    const mu = sde.mu.value(t);
    const sigma2 = sde.sigma.value(t) ** 2;
    return tf.sub(mu - sigma2, tf.mul(0.5 * sigma2, tf.mul(x, s(x, t))));
  };
  const updates = samplerUpdates(sde, options);
  const yT = tf.log(xT);
  try {
    const y0 = await runLoop(yT, updates, options, (y, u) => {
      const x = tf.exp(y);
      const d1 = F(x, u.t);
      const yEuler = tf.sub(y, tf.mul(u.delta, d1));
      const tNext = u.t - u.delta;
      if (tNext <= 1e-12) return yEuler;
      const d2 = F(tf.exp(yEuler), tNext);
      return tf.sub(y, tf.mul(u.delta / 2, tf.add(d1, d2)));
    });
    const x0 = tf.exp(y0);
    y0.dispose();
    return x0;
  } finally {
    yT.dispose();
  }
}

/** mu(t) and sigma(t)^2 at an update's time. */
function coefficients(sde: GBM, u: Update): { mu: number; sigma2: number } {
  return { mu: sde.mu.value(u.t), sigma2: sde.sigma.value(u.t) ** 2 };
}

/** base + eta * scale * Z, with Z drawn for update `index` of this seed; no noise when eta = 0. */
export function addNoise(base: tf.Tensor, u: Update, scale: number, seed: number, index: number): tf.Tensor {
  if (u.noiseScale === 0) return base;
  const z = tf.tensor(normalArray(base.size, seed, index), base.shape);
  return tf.add(base, tf.mul(u.noiseScale * scale, z));
}
