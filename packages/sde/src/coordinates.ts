import * as tf from "@tensorflow/tfjs-core";
import type { AnySDE } from "./any-sde";
import type { ScoreFn, SDE, Time } from "./types";
import { assertFloat, timeTensor } from "./util";

/**
 * The noise level of a process at time t: the sigma of Karras et al. (2022, arXiv 2206.00364, eq. 1 and Table 1)
 * for which the transition reads y_t = y_0 + sigma(t) Z in the process's denoising coordinates y (see
 * {@link noiseCoordinates}):
 * - GBM: sigma(t) = sqrt(v(t)), the std of log X_t given X_0 (docs/method.md, section 9);
 * - VP: sigma(t) = sqrt(e^B(t) - 1) = b(t) / a(t), the noise std of x_t / a(t);
 * - VE: sigma(t) itself.
 * Each is increasing in t. This is `sde.noiseLevel(t)` ({@link SDE.noiseLevel}), as a function.
 *
 * @example
 * noiseLevel(gbm({ sigma: 0.8 }), 1); // 0.8
 */
export function noiseLevel(sde: SDE, t: number): number {
  return sde.noiseLevel(t);
}

/**
 * The time t in [0, T] at which the process reaches noise level `sigma` (the inverse of {@link noiseLevel}), by
 * bisection, which is exact to float64 rounding since noise levels increase with t. Throws when sigma lies outside
 * [noiseLevel(0), noiseLevel(T)].
 */
export function timeAtNoiseLevel(sde: SDE, sigma: number): number {
  const fn = "timeAtNoiseLevel";
  const lo0 = noiseLevel(sde, 0);
  const hi0 = noiseLevel(sde, sde.T);
  if (!Number.isFinite(sigma) || sigma < lo0 * (1 - 1e-12) || sigma > hi0 * (1 + 1e-12)) {
    throw new Error(`${fn}: sigma must be in [${lo0}, ${hi0}] (the ${sde.kind} process's noise levels on [0, T = ${sde.T}]), got ${sigma}.`);
  }
  let lo = 0;
  let hi = sde.T;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * (1 + hi); i++) {
    const mid = 0.5 * (lo + hi);
    if (noiseLevel(sde, mid) < sigma) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * The EDM view of a process (Karras et al. 2022, section 2; docs/method.md, section 9): coordinates y of the state
 * in which every process here is a variance-exploding diffusion,
 *
 *     y_t = y_0 + sigma(t) Z,   Z ~ N(0, I)
 *
 * - GBM: y = log x - m(t), since log X_t = log X_0 + m(t) + sqrt(v(t)) Z. With mu = sigma^2 / 2 (the default) m = 0
 *   and y = log x. Every update made in y keeps x = exp(y + m) positive.
 * - VP: y = x / a(t), a(t) = exp(-B(t) / 2), since x_t = a x_0 + b Z.
 * - VE: y = x.
 *
 * In these coordinates a denoiser D(y; sigma) ~ E[y_0 | y_t = y] and the Stein score of y are tied by Tweedie's
 * formula, grad_y log p_t(y) = (D - y) / sigma^2; {@link NoiseCoordinates.scoreToDenoised} and
 * {@link NoiseCoordinates.denoisedToScore} convert between D and the Stein score of x.
 */
export interface NoiseCoordinates {
  readonly sde: AnySDE;
  /** sigma(t); see {@link noiseLevel}. */
  noiseLevel(t: number): number;
  /** t(sigma); see {@link timeAtNoiseLevel}. */
  timeAt(sigma: number): number;
  /** y from the state x at time t (a number, or one time per sample `[batch]`). */
  toY(x: tf.Tensor, t: Time): tf.Tensor;
  /** The state x from y at time t. */
  toX(y: tf.Tensor, t: Time): tf.Tensor;
  /**
   * Tweedie's formula: the denoised D = y + sigma^2 grad_y log p_t(y) from the Stein score of x at (x, t).
   * GBM: grad_y log p = x grad_x log p + 1 (the Hyvarinen score plus one, docs/method.md section 2);
   * VP: grad_y log p = a(t) grad_x log p; VE: the same score.
   */
  scoreToDenoised(stein: tf.Tensor, x: tf.Tensor, t: Time): tf.Tensor;
  /** The inverse: the Stein score of x from the denoised D at (x, t), (D - y) / sigma^2 mapped back to x. */
  denoisedToScore(denoised: tf.Tensor, x: tf.Tensor, t: Time): tf.Tensor;
}

/**
 * {@link NoiseCoordinates} of a GBM, VP or VE process.
 *
 * @example
 * const c = noiseCoordinates(gbm({ sigma: geometricSchedule(0.002, 10) }));
 * const y = c.toY(x, 1); // log x: a VE diffusion with noise level c.noiseLevel(1) ~ 10
 */
export function noiseCoordinates(sde: AnySDE): NoiseCoordinates {
  const fn = "noiseCoordinates";
  const level = (t: number) => sde.noiseLevel(t);
  const variance = (x: tf.Tensor, t: Time, f: string) => timeTensor(t, x, (s) => level(s) ** 2, f);
  const common = { sde, noiseLevel: level, timeAt: (sigma: number) => timeAtNoiseLevel(sde, sigma) };
  switch (sde.kind) {
    case "gbm": {
      const g = sde;
      const m = (x: tf.Tensor, t: Time, f: string) => timeTensor(t, x, (s) => g.logMean(s), f);
      return {
        ...common,
        toY: (x, t) => tf.tidy(() => (assertFloat(x, `${fn}.toY`, "x"), tf.sub(tf.log(x), m(x, t, `${fn}.toY`)))),
        toX: (y, t) => tf.tidy(() => (assertFloat(y, `${fn}.toX`, "y"), tf.exp(tf.add(y, m(y, t, `${fn}.toX`))))),
        scoreToDenoised: (stein, x, t) =>
          tf.tidy(() => {
            const y = tf.sub(tf.log(x), m(x, t, `${fn}.scoreToDenoised`));
            return tf.add(y, tf.mul(variance(x, t, `${fn}.scoreToDenoised`), tf.add(tf.mul(x, stein), 1)));
          }),
        denoisedToScore: (d, x, t) =>
          tf.tidy(() => {
            const y = tf.sub(tf.log(x), m(x, t, `${fn}.denoisedToScore`));
            const h = tf.sub(tf.div(tf.sub(d, y), variance(x, t, `${fn}.denoisedToScore`)), 1);
            return tf.div(h, x);
          }),
      };
    }
    case "vp":
    case "ve": {
      // a(t) = 1 / sqrt(1 + sigma^2) for VP (e^-B/2 with sigma^2 = e^B - 1), 1 for VE.
      const vp = sde.kind === "vp";
      const a = (x: tf.Tensor, t: Time, f: string) =>
        timeTensor(t, x, (s) => (vp ? 1 / Math.sqrt(1 + level(s) ** 2) : 1), f);
      return {
        ...common,
        toY: (x, t) => tf.tidy(() => (assertFloat(x, `${fn}.toY`, "x"), tf.div(x, a(x, t, `${fn}.toY`)))),
        toX: (y, t) => tf.tidy(() => (assertFloat(y, `${fn}.toX`, "y"), tf.mul(y, a(y, t, `${fn}.toX`)))),
        scoreToDenoised: (stein, x, t) =>
          tf.tidy(() => {
            const at = a(x, t, `${fn}.scoreToDenoised`);
            return tf.add(tf.div(x, at), tf.mul(variance(x, t, `${fn}.scoreToDenoised`), tf.mul(at, stein)));
          }),
        denoisedToScore: (d, x, t) =>
          tf.tidy(() => {
            const at = a(x, t, `${fn}.denoisedToScore`);
            return tf.div(tf.sub(d, tf.div(x, at)), tf.mul(variance(x, t, `${fn}.denoisedToScore`), at));
          }),
      };
    }
    default:
      throw new Error(`${fn}: unknown SDE kind ${String((sde as { kind: unknown }).kind)}.`);
  }
}

/**
 * A denoiser D(y; sigma) from a Stein score function, by Tweedie's formula in the process's coordinates: at noise
 * level sigma, t = t(sigma), x = toX(y, t) and D = y + sigma^2 grad_y log p_t(y) (`scoreToDenoised`). For GBM it forms
 * x = exp(y). The one conversion behind `denoiserFromScore` of `@dale/samplers` and `toDenoiser` of `@dale/models`.
 */
export function scoreDenoiser(score: ScoreFn, sde: AnySDE): (y: tf.Tensor, sigma: number) => tf.Tensor {
  const c = noiseCoordinates(sde);
  return (y, sigma) =>
    tf.tidy(() => {
      const t = c.timeAt(sigma);
      const x = c.toX(y, t);
      return c.scoreToDenoised(score(x, t), x, t);
    });
}
