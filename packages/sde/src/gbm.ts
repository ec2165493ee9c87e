import * as tf from "@tensorflow/tfjs-core";
import { lognormalPrior, priorFromJSON, type PriorParams } from "./prior";
import { constantSchedule, scheduleFromJSON, toSchedule, type Schedule } from "./schedule";
import type { Marginal, Prior, SDE, SDEJSON, Time } from "./types";
import { assertFloat, assertOneOf, assertPositive, assertSameShape, checkTimes, timeTensor } from "./util";

export interface GBMOptions {
  /** Drift rate mu, a constant or a schedule of t. Default sigma^2 / 2, which makes log space driftless. */
  mu?: number | Schedule;
  /** Volatility sigma, a constant or a schedule of t. Default 0.8 (the reference implementation). */
  sigma?: number | Schedule;
  /** End time. Default 1. */
  T?: number;
  /** The log-normal prior at T; default loc = m(T), scale = sqrt(v(T)) (data at 1). Fit one with {@link fitPrior}. */
  prior?: PriorParams | Prior;
}

/** Geometric Brownian motion: an {@link SDE} with the extra closed forms that GBM has. */
export interface GBM extends SDE {
  readonly kind: "gbm";
  readonly domain: "positive";
  readonly mu: Schedule;
  readonly sigma: Schedule;
  readonly prior: Prior;
  /** m(t) = int_0^t (mu(s) - sigma(s)^2 / 2) ds, the drift of log X_t: E[log X_t | X_0] = log X_0 + m(t). */
  logMean(t: number): number;
  /** v(t) = int_0^t sigma(s)^2 ds: Var[log X_t | X_0] = v(t). */
  logVariance(t: number): number;
  /** sigma(t) = sqrt(v(t)), the std of log X_t given X_0: y = log x - m(t) is a VE diffusion with this noise level. */
  noiseLevel(t: number): number;
  /** sqrt(v(t)), the std of log X_t given X_0 (the same number as {@link GBM.noiseLevel}). */
  marginalStd(t: number): number;
  /** The same process with another prior. */
  withPrior(prior: PriorParams | Prior): GBM;
}

/**
 * Geometric Brownian motion, the forward process of multiplicative diffusion (docs/method.md, section 1):
 *
 *     dX_t = mu(t) X_t dt + sigma(t) X_t dW_t,   X_0 > 0 elementwise
 *     log X_t | X_0 ~ N(log X_0 + m(t), v(t)),  m(t) = int_0^t (mu - sigma^2/2),  v(t) = int_0^t sigma^2
 *
 * The Lamperti transform Y = log X gives dY = (mu - sigma^2/2) dt + sigma dW. Positive data is required: every
 * function that takes x_0 checks it and says how to shift data that is not.
 *
 * @example
 * const sde = gbm({ sigma: 0.8 }); // mu = 0.32, T = 1: the reference settings
 * const xt = sde.perturb(x0, tf.randomNormal(x0.shape), 0.5);
 */
export function gbm(options: GBMOptions = {}): GBM {
  const T = options.T ?? 1;
  if (!(T > 0) || !Number.isFinite(T)) throw new Error(`gbm: T must be a positive finite number, got ${T}.`);
  const sigma = toSchedule(options.sigma ?? 0.8, "gbm", "sigma");
  const mu = options.mu === undefined ? driftless(sigma) : toSchedule(options.mu, "gbm", "mu");
  const logMean = (t: number) => mu.integral(t) - 0.5 * sigma.integralOfSquare(t);
  const logVariance = (t: number) => sigma.integralOfSquare(t);
  if (!(logVariance(T) > 0)) throw new Error(`gbm: int_0^T sigma^2 must be positive, got ${logVariance(T)}.`);
  const logStd = (t: number) => Math.sqrt(logVariance(t));
  const prior = toPrior(options.prior ?? { loc: logMean(T), scale: logStd(T) });

  const checked = (x0: tf.Tensor, fn: string) => {
    assertFloat(x0, fn, "x0");
    assertPositive(x0, fn, "x0");
  };
  // The transition is defined on [0, T]; at t = 0 it is the point mass at x0 (scale 0).
  const times = (t: Time, x0: tf.Tensor, fn: string) => checkTimes(t, { fn, T, min: "non-negative", batch: x0.shape[0] });

  const self: GBM = {
    kind: "gbm",
    domain: "positive",
    T,
    mu,
    sigma,
    prior,
    logMean,
    logVariance,
    noiseLevel: logStd,
    marginalStd: logStd,
    drift: (x, t) => tf.tidy(() => tf.mul(timeTensor(t, x, (s) => mu.value(s), "gbm.drift"), x)),
    diffusion: (x, t) => tf.tidy(() => tf.mul(timeTensor(t, x, (s) => sigma.value(s), "gbm.diffusion"), x)),
    diffusionDivergence: (x, t) =>
      tf.tidy(() => tf.mul(timeTensor(t, x, (s) => 2 * sigma.value(s) ** 2, "gbm.diffusionDivergence"), x)),
    marginal(x0: tf.Tensor, t: Time): Marginal {
      const fn = "gbm.marginal";
      checked(x0, fn);
      const ts = times(t, x0, fn);
      return tf.tidy(() => {
        const loc = tf.add(tf.log(x0), timeTensor(ts, x0, logMean, fn));
        const scale = tf.broadcastTo(timeTensor(ts, x0, logStd, fn), x0.shape);
        return { family: "lognormal" as const, loc, scale };
      });
    },
    perturb(x0, noise, t) {
      const fn = "gbm.perturb";
      checked(x0, fn);
      assertFloat(noise, fn, "noise");
      assertSameShape(x0, noise, fn, "x0", "noise");
      const ts = times(t, x0, fn);
      return tf.tidy(() => {
        const m = timeTensor(ts, x0, logMean, fn);
        const s = timeTensor(ts, x0, logStd, fn);
        return tf.mul(x0, tf.exp(tf.add(m, tf.mul(s, noise))));
      });
    },
    withPrior: (p) => gbm({ mu, sigma, T, prior: p }),
    toJSON: (): SDEJSON => ({ kind: "gbm", mu: mu.toJSON(), sigma: sigma.toJSON(), T, prior: prior.toJSON() }),
  };
  return self;
}

/** Which axes of the data the fitted prior keeps separate. */
export type PriorFit = "all" | "channel" | "pixel";

const PRIOR_FITS: readonly PriorFit[] = ["all", "channel", "pixel"];

/**
 * Fits the log-normal prior at T to data (docs/method.md, section 4): with Y_0 = log X_0,
 *
 *     loc = E[Y_0] + m(T),   scale = sqrt(Var[Y_0] + v(T))
 *
 * which is exact in the first two moments of log X_T. `per: "channel"` keeps the last axis apart (one loc and scale
 * per colour channel), `per: "pixel"` keeps every non-batch element apart, `per: "all"` (default) pools everything.
 *
 * @param x0 data, `[batch, ...]`, strictly positive and finite
 * @example
 * const prior = fitPrior(gbm(), images, { per: "channel" });
 * const sde = gbm().withPrior(prior);
 */
export function fitPrior(sde: GBM, x0: tf.Tensor, options: { per?: PriorFit } = {}): PriorParams {
  const per = options.per ?? "all";
  assertOneOf(per, PRIOR_FITS, "fitPrior", "per");
  assertFloat(x0, "fitPrior", "x0");
  assertPositive(x0, "fitPrior", "x0");
  if (x0.rank < 2 && per !== "all") {
    throw new Error(`fitPrior: per "${per}" needs x0 of rank >= 2 ([batch, ...]), got shape [${x0.shape}].`);
  }
  const axes =
    per === "all" ? x0.shape.map((_, i) => i) : per === "channel" ? x0.shape.map((_, i) => i).slice(0, -1) : [0];
  const shape = per === "all" ? [1] : per === "channel" ? [x0.shape[x0.rank - 1] as number] : x0.shape.slice(1);
  const [mean, variance] = tf.tidy(() => {
    const moments = tf.moments(tf.log(x0), axes);
    return [moments.mean, moments.variance];
  });
  const m = Array.from(mean.dataSync(), (v) => v + sde.logMean(sde.T));
  const s = Array.from(variance.dataSync(), (v) => Math.sqrt(v + sde.logVariance(sde.T)));
  mean.dispose();
  variance.dispose();
  return { loc: m, scale: s, shape };
}

/** Rebuilds a GBM from {@link GBM.toJSON}. */
export function gbmFromJSON(json: Extract<SDEJSON, { kind: "gbm" }>): GBM {
  const field = <K extends "mu" | "sigma" | "prior">(key: K): NonNullable<typeof json[K]> => {
    const v = json[key];
    if (v === null || typeof v !== "object") throw new Error(`gbmFromJSON: ${key} must be an object ({ kind | family, ... }), got ${JSON.stringify(v) ?? "undefined"}.`);
    return v as NonNullable<typeof json[K]>;
  };
  const muJson = field("mu");
  const mu = muJson.kind === "custom" && muJson.name === "driftless" ? undefined : scheduleFromJSON(muJson);
  return gbm({ mu, sigma: scheduleFromJSON(field("sigma")), T: json.T, prior: priorFromJSON(field("prior")) });
}

function toPrior(p: PriorParams | Prior): Prior {
  if ("sample" in p) {
    if (p.family !== "lognormal") throw new Error(`gbm: prior must be log-normal, got a ${p.family} prior.`);
    return p;
  }
  return lognormalPrior(p);
}

/** mu(t) = sigma(t)^2 / 2, so that d log X = sigma dW. */
function driftless(sigma: Schedule): Schedule {
  const json = sigma.toJSON();
  if (json.kind === "constant") return constantSchedule(json.value ** 2 / 2);
  return {
    value: (t) => sigma.value(t) ** 2 / 2,
    integral: (t) => sigma.integralOfSquare(t) / 2,
    integralOfSquare: (t) => {
      // int (sigma^2/2)^2 by Simpson's rule; only used by callers that square mu, never by GBM itself.
      const n = 1000;
      const h = t / n;
      let acc = 0;
      for (let i = 0; i <= n; i++) {
        const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
        acc += w * (sigma.value(i * h) ** 2 / 2) ** 2;
      }
      return (acc * h) / 3;
    },
    toJSON: () => ({ kind: "custom", name: "driftless" }),
  };
}
