import * as tf from "@tensorflow/tfjs-core";
import { checkTimes, timeTensor, type GBM, type Time, type VESDE, type VPSDE } from "@dale/sde";
import type { ExactDensity } from "./types";

/**
 * A mixture of K diagonal Gaussians in d dimensions: `weights[k]`, `means[k][i]`, `stds[k][i]`. For log-normal
 * mixtures the same numbers describe log X.
 */
export interface DiagonalMixture {
  weights: readonly number[];
  means: readonly (readonly number[])[];
  stds: readonly (readonly number[])[];
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The exact density of GBM started from a mixture of log-normals, at any t (docs/method.md, section 6):
 *
 *     log X_0 ~ sum_k w_k N(m_k, diag s_k^2)   =>   log X_t ~ sum_k w_k N(m_k + m(t), diag(s_k^2 + v(t)))
 *
 * with m(t) = int (mu - sigma^2/2), v(t) = int sigma^2. In log space the score is the Gaussian-mixture score g(y);
 * the Hyvarinen score is h = g - 1 and the Stein score h / x. A single log-normal is the case K = 1, where
 * h(x) = -1 - (log x - m - m(t)) / (s^2 + v(t)).
 *
 * Times are a number or a `[batch]` tensor in [0, T]: the variance s_k^2 + v(t) stays positive down to t = 0, where
 * this is the density of the data itself.
 *
 * @param mixture parameters of log X_0 over the d = prod(x.shape.slice(1)) trailing elements
 * @example
 * const p = lognormalMixtureScore(gbm(), { weights: [0.5, 0.5], means: [[0.1], [0.6]], stds: [[0.05], [0.08]] });
 * const s = p.stein(x, 0.5);
 */
export function lognormalMixtureScore(sde: GBM, mixture: DiagonalMixture): ExactDensity {
  return lognormalMixture(sde, mixture, "lognormalMixtureScore");
}

/** The exact density of GBM started from one log-normal, log X_0 ~ N(m, diag s^2). */
export function lognormalScore(sde: GBM, params: { mean: readonly number[]; std: readonly number[] }): ExactDensity {
  return lognormalMixture(sde, { weights: [1], means: [params.mean], stds: [params.std] }, "lognormalScore");
}

function lognormalMixture(sde: GBM, mixture: DiagonalMixture, name: string): ExactDensity {
  const mix = checkMixture(mixture, name);
  const shift = (t: number) => sde.logMean(t);
  const extraVar = (t: number) => sde.logVariance(t);
  const logSpace = gaussianMixture(mix, sde.T, () => 1, shift, extraVar);
  return {
    logProb: (x, t) =>
      tf.tidy(() => {
        const y = tf.log(x);
        const flat = tf.reshape(y, [x.shape[0] as number, -1]);
        return tf.sub(logSpace.logProb(y, t, `${name}.logProb`), tf.sum(flat, 1)); // minus log|dx/dy| = sum log x
      }),
    hyvarinen: tagHyvarinen((x, t) => tf.tidy(() => tf.sub(logSpace.score(tf.log(x), t, `${name}.hyvarinen`), 1))),
    stein: (x, t) => tf.tidy(() => tf.div(tf.sub(logSpace.score(tf.log(x), t, `${name}.stein`), 1), x)),
  };
}

/**
 * The exact density of an additive SDE started from a Gaussian mixture: with X_t | X_0 ~ N(a(t) X_0, b(t)^2),
 *
 *     X_0 ~ sum_k w_k N(m_k, diag s_k^2)   =>   X_t ~ sum_k w_k N(a(t) m_k, diag(a(t)^2 s_k^2 + b(t)^2))
 *
 * (VP: a = exp(-B/2), b^2 = 1 - exp(-B); VE: a = 1, b = sigma(t)). Times lie in [0, T]: the variance
 * a^2 s_k^2 + b^2 stays positive down to t = 0.
 */
export function gaussianMixtureScore(sde: VPSDE | VESDE, mixture: DiagonalMixture): ExactDensity {
  const name = "gaussianMixtureScore";
  const mix = checkMixture(mixture, name);
  const coeffs = (t: number) => affineCoefficients(sde, t);
  const dens = gaussianMixture(
    mix,
    sde.T,
    (t) => coeffs(t).a,
    () => 0,
    (t) => coeffs(t).b ** 2,
  );
  return {
    logProb: (x, t) => dens.logProb(x, t, `${name}.logProb`),
    stein: (x, t) => dens.score(x, t, `${name}.stein`),
    hyvarinen: tagHyvarinen((x, t) => tf.tidy(() => tf.mul(x, dens.score(x, t, `${name}.hyvarinen`)))),
  };
}

/** a(t) and b(t) of X_t | X_0 ~ N(a(t) X_0, b(t)^2): VP a = exp(-B(t)/2), VE a = 1; b = `sde.marginalStd(t)`. */
function affineCoefficients(sde: VPSDE | VESDE, t: number): { a: number; b: number } {
  switch (sde.kind) {
    case "vp":
      return { a: Math.exp(-0.5 * sde.beta.integral(t)), b: sde.marginalStd(t) };
    case "ve":
      return { a: 1, b: sde.marginalStd(t) };
    default:
      throw new Error(`gaussianMixtureScore: needs an additive SDE, got ${String((sde as { kind: unknown }).kind)}.`);
  }
}

interface Mixture {
  logW: Float32Array; // [K]
  means: Float32Array; // K * d
  vars: Float32Array; // K * d
  K: number;
  d: number;
}

/**
 * A diagonal Gaussian mixture whose components are transformed at time t to N(a(t) m_k + c(t), a(t)^2 s_k^2 + e(t)).
 * Works on z of shape [batch, ...] with d = prod of trailing dims; t a number or a [batch] tensor in [0, T], read
 * once per call. `fn` names the caller in errors.
 */
function gaussianMixture(
  mix: Mixture,
  T: number,
  a: (t: number) => number,
  c: (t: number) => number,
  e: (t: number) => number,
) {
  const params = (z: tf.Tensor, t: Time, fn: string) => {
    const n = z.shape[0];
    if (z.rank < 1 || n === undefined || z.size !== n * mix.d) {
      throw new Error(`${fn}: x must be [batch, ...] with ${mix.d} elements per sample, got shape [${z.shape}].`);
    }
    const times = checkTimes(t, { fn, T, min: "non-negative", batch: n });
    const zf = tf.reshape(z, [n, 1, mix.d]);
    const means0 = tf.tensor(mix.means, [1, mix.K, mix.d]);
    const vars0 = tf.tensor(mix.vars, [1, mix.K, mix.d]);
    const at = timeTensor(times, zf, a, fn);
    const mean = tf.add(tf.mul(at, means0), timeTensor(times, zf, c, fn));
    const variance = tf.add(tf.mul(tf.square(at), vars0), timeTensor(times, zf, e, fn));
    const diff = tf.sub(zf, mean); // [n, K, d]
    // log N(z; mean_k, var_k) + log w_k, summed over d: [n, K]
    const logComp = tf.add(
      tf.mul(-0.5, tf.sum(tf.add(tf.div(tf.square(diff), variance), tf.add(tf.log(variance), LOG_2PI)), 2)),
      tf.tensor(mix.logW, [1, mix.K]),
    );
    return { n, diff, variance, logComp };
  };
  return {
    logProb: (z: tf.Tensor, t: Time, fn: string) => tf.tidy(() => tf.logSumExp(params(z, t, fn).logComp, 1)),
    score: (z: tf.Tensor, t: Time, fn: string) =>
      tf.tidy(() => {
        const { diff, variance, logComp } = params(z, t, fn);
        const r = tf.expandDims(tf.softmax(logComp, 1), 2); // responsibilities [n, K, 1]
        return tf.reshape(tf.neg(tf.sum(tf.mul(r, tf.div(diff, variance)), 1)), z.shape);
      }),
  };
}

function checkMixture(m: DiagonalMixture, fn: string): Mixture {
  const K = m.weights.length;
  if (K === 0) throw new Error(`${fn}: mixture.weights must not be empty.`);
  if (m.means.length !== K || m.stds.length !== K) {
    throw new Error(`${fn}: mixture.means and mixture.stds need one row per weight (${K}), got ${m.means.length} and ${m.stds.length}.`);
  }
  const d = m.means[0]?.length ?? 0;
  if (d === 0) throw new Error(`${fn}: mixture.means rows must not be empty.`);
  const total = m.weights.reduce((s, w) => s + w, 0);
  if (m.weights.some((w) => !(w > 0)) || Math.abs(total - 1) > 1e-6) {
    throw new Error(`${fn}: mixture.weights must be positive and sum to 1, got [${m.weights.join(", ")}].`);
  }
  const means = new Float32Array(K * d);
  const vars = new Float32Array(K * d);
  for (let k = 0; k < K; k++) {
    const mk = m.means[k] as readonly number[];
    const sk = m.stds[k] as readonly number[];
    if (mk.length !== d || sk.length !== d) {
      throw new Error(`${fn}: every row of mixture.means and mixture.stds needs ${d} values; row ${k} does not.`);
    }
    for (let i = 0; i < d; i++) {
      const s = sk[i] as number;
      if (!(s > 0)) throw new Error(`${fn}: mixture.stds must be positive, got ${s} at [${k}][${i}].`);
      means[k * d + i] = mk[i] as number;
      vars[k * d + i] = s * s;
    }
  }
  return { logW: Float32Array.from(m.weights, Math.log), means, vars, K, d };
}

function tagHyvarinen(fn: (x: tf.Tensor, t: Time) => tf.Tensor): ExactDensity["hyvarinen"] {
  return Object.assign(fn, { kind: "hyvarinen" as const });
}
