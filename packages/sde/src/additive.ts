import * as tf from "@tensorflow/tfjs-core";
import { normalPrior } from "./prior";
import { linearSchedule, scheduleFromJSON, toSchedule, type Schedule } from "./schedule";
import type { Marginal, Prior, SDE, SDEJSON } from "./types";
import { assertFloat, assertSameShape, checkTimes, timeTensor } from "./util";
import type { Time } from "./types";

export interface VPSDE extends SDE {
  readonly kind: "vp";
  readonly beta: Schedule;
  /** sigma(t) = sqrt(e^B(t) - 1) = b(t) / a(t), the noise std of y = x / a(t), with B(t) = int_0^t beta. */
  noiseLevel(t: number): number;
  /** b(t) = sqrt(1 - e^-B(t)), the std of X_t given X_0. */
  marginalStd(t: number): number;
}

export interface VESDE extends SDE {
  readonly kind: "ve";
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /** sigma(t) = sigmaMin (sigmaMax / sigmaMin)^(t / T). */
  sigmaAt(t: number): number;
  /** sigma(t), as {@link VESDE.sigmaAt}: the process is its own denoising coordinate. */
  noiseLevel(t: number): number;
  /** sigma(t), the std of X_t given X_0. */
  marginalStd(t: number): number;
}

/**
 * The variance-preserving SDE of Song et al. (2021), score_sde's `VPSDE`:
 *
 *     dX = -beta(t) X / 2 dt + sqrt(beta(t)) dW,   beta(t) = beta_min + t (beta_max - beta_min) by default
 *     X_t | X_0 ~ N(X_0 exp(-B(t)/2), 1 - exp(-B(t))),   B(t) = int_0^t beta
 *
 * @example
 * const sde = vpSDE(); // beta_min 0.1, beta_max 20, T = 1
 */
export function vpSDE(options: { betaMin?: number; betaMax?: number; beta?: Schedule; T?: number } = {}): VPSDE {
  const T = options.T ?? 1;
  if (!(T > 0)) throw new Error(`vpSDE: T must be positive, got ${T}.`);
  if (options.beta && (options.betaMin !== undefined || options.betaMax !== undefined)) {
    throw new Error("vpSDE: give either beta or betaMin/betaMax, not both.");
  }
  const beta = options.beta
    ? toSchedule(options.beta, "vpSDE", "beta")
    : linearSchedule(options.betaMin ?? 0.1, options.betaMax ?? 20, T);
  const logMeanCoeff = (t: number) => -0.5 * beta.integral(t);
  const std = (t: number) => Math.sqrt(-Math.expm1(-beta.integral(t)));
  const prior: Prior = normalPrior({ loc: 0, scale: 1 });
  const mean = (s: number) => Math.exp(logMeanCoeff(s));
  return {
    kind: "vp",
    domain: "real",
    T,
    beta,
    prior,
    noiseLevel: (t) => Math.sqrt(Math.expm1(beta.integral(t))),
    marginalStd: std,
    drift: (x, t) => tf.tidy(() => tf.mul(timeTensor(t, x, (s) => -0.5 * beta.value(s), "vpSDE.drift"), x)),
    diffusion: (x, t) =>
      tf.tidy(() => tf.broadcastTo(timeTensor(t, x, (s) => Math.sqrt(beta.value(s)), "vpSDE.diffusion"), x.shape)),
    diffusionDivergence: (x) => tf.zerosLike(x),
    marginal(x0, t): Marginal {
      const fn = "vpSDE.marginal";
      assertFloat(x0, fn, "x0");
      const ts = transitionTimes(t, x0, T, fn);
      return tf.tidy(() => ({
        family: "normal" as const,
        mean: tf.mul(timeTensor(ts, x0, mean, fn), x0),
        std: tf.broadcastTo(timeTensor(ts, x0, std, fn), x0.shape),
      }));
    },
    perturb(x0, noise, t) {
      const fn = "vpSDE.perturb";
      assertFloat(x0, fn, "x0");
      assertSameShape(x0, noise, fn, "x0", "noise");
      const ts = transitionTimes(t, x0, T, fn);
      return tf.tidy(() => tf.add(tf.mul(timeTensor(ts, x0, mean, fn), x0), tf.mul(timeTensor(ts, x0, std, fn), noise)));
    },
    toJSON: (): SDEJSON => ({ kind: "vp", beta: beta.toJSON(), T }),
  };
}

/**
 * The variance-exploding SDE of Song et al. (2021), score_sde's `VESDE`:
 *
 *     dX = sigma(t) sqrt(2 log(sigma_max / sigma_min)) dW,   sigma(t) = sigma_min (sigma_max / sigma_min)^t
 *     X_t | X_0 ~ N(X_0, sigma(t)^2)
 *
 * @example
 * const sde = veSDE({ sigmaMax: 50 });
 */
export function veSDE(options: { sigmaMin?: number; sigmaMax?: number; T?: number } = {}): VESDE {
  const { sigmaMin = 0.01, sigmaMax = 50, T = 1 } = options;
  if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin)) {
    throw new Error(`veSDE: need 0 < sigmaMin < sigmaMax, got sigmaMin ${sigmaMin}, sigmaMax ${sigmaMax}.`);
  }
  if (!(T > 0)) throw new Error(`veSDE: T must be positive, got ${T}.`);
  const sigmaAt = (t: number) => sigmaMin * (sigmaMax / sigmaMin) ** (t / T);
  const g = (t: number) => sigmaAt(t) * Math.sqrt((2 * Math.log(sigmaMax / sigmaMin)) / T);
  return {
    kind: "ve",
    domain: "real",
    T,
    sigmaMin,
    sigmaMax,
    sigmaAt,
    noiseLevel: sigmaAt,
    marginalStd: sigmaAt,
    prior: normalPrior({ loc: 0, scale: sigmaMax }),
    drift: (x) => tf.zerosLike(x),
    diffusion: (x, t) => tf.tidy(() => tf.broadcastTo(timeTensor(t, x, g, "veSDE.diffusion"), x.shape)),
    diffusionDivergence: (x) => tf.zerosLike(x),
    marginal(x0, t): Marginal {
      const fn = "veSDE.marginal";
      assertFloat(x0, fn, "x0");
      const ts = transitionTimes(t, x0, T, fn);
      return tf.tidy(() => ({
        family: "normal" as const,
        mean: tf.clone(x0),
        std: tf.broadcastTo(timeTensor(ts, x0, sigmaAt, fn), x0.shape),
      }));
    },
    perturb(x0, noise, t) {
      const fn = "veSDE.perturb";
      assertFloat(x0, fn, "x0");
      assertSameShape(x0, noise, fn, "x0", "noise");
      const ts = transitionTimes(t, x0, T, fn);
      return tf.tidy(() => tf.add(x0, tf.mul(timeTensor(ts, x0, sigmaAt, fn), noise)));
    },
    toJSON: (): SDEJSON => ({ kind: "ve", sigmaMin, sigmaMax, T }),
  };
}

/** The times of a transition from x0, checked to lie in [0, T] and read once. */
function transitionTimes(t: Time, x0: tf.Tensor, T: number, fn: string): number | number[] {
  return checkTimes(t, { fn, T, min: "non-negative", batch: x0.shape[0] });
}

/** Rebuilds the VP-SDE from its JSON. */
export function vpFromJSON(json: Extract<SDEJSON, { kind: "vp" }>): VPSDE {
  return vpSDE({ beta: scheduleFromJSON(json.beta), T: json.T });
}
