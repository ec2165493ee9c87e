import * as tf from "@tensorflow/tfjs-core";
import { normalArray, type ReverseSDE } from "@dale/sde";

// The integrator steps of the time-based samplers. Each one steps a reverse-time process of `@dale/sde` (`reverse`,
// `reverseLog`, with or without `probabilityFlow`) from t to t - delta and knows nothing else of it: the sampler picks
// the process, the integrator only discretises it (score_sde: `rsde = sde.reverse(score_fn)`, then
// `drift, diffusion = rsde.sde(x, t)`).

/** One step of a reverse-time process from t to t - delta (an `Update` of the sampler's plan fits). */
export interface ReverseStep {
  /** The time of the current state, where drift and diffusion are evaluated. */
  t: number;
  /** Step size delta > 0; the step ends at t - delta. */
  delta: number;
}

/** One Euler-Maruyama step: {@link ReverseStep} plus its noise. */
export interface EulerMaruyamaStep extends ReverseStep {
  /** Multiplier eta of the injected noise: 1 for plain Euler-Maruyama, 0 for a noise-free update. Default 1. */
  noiseScale?: number;
  /**
   * Draws Z ~ N(0, I) with the state's shape (e.g. {@link standardNormal}). Called once, and not at all when the step
   * injects no noise (eta = 0, or a diffusion that is 0). Needed unless eta = 0.
   */
  noise?: () => tf.Tensor;
}

/**
 * One Euler-Maruyama step of a reverse-time SDE (Kloeden and Platen 1992, "Numerical Solution of Stochastic
 * Differential Equations"; the predictor of Song et al. 2021, arXiv 2011.13456, score_sde's
 * `EulerMaruyamaPredictor`), from t to t - delta with drift f and diffusion g of `rev`:
 *
 *     x_{t - delta} = x_t - delta f(x_t, t) + eta g(x_t, t) sqrt(delta) Z,   Z ~ N(0, I)
 *
 * eta is `noiseScale` (1, or 0 for a noise-free update; the reference schedule anneals it). When `rev` gives its
 * diffusion as a number (`scalarDiffusion`, e.g. `reverseLog`'s sigma(t)), the noise is scaled by that number.
 * Call it inside `tf.tidy`.
 *
 * @param rev the reverse-time process, e.g. `reverse(vpSDE(), score)` or `reverseLog(gbm(), score)`
 * @param x the state at t, any shape
 * @returns the state at t - delta, with x's shape
 * @example
 * const rev = reverseLog(sde, score); // in y = log x
 * const y1 = eulerMaruyamaStep(rev, y, { t: 1, delta: 0.01, noise: () => standardNormal(y, seed, 0) });
 */
export function eulerMaruyamaStep(rev: ReverseSDE, x: tf.Tensor, step: EulerMaruyamaStep): tf.Tensor {
  const fn = "eulerMaruyamaStep";
  const { t, delta, noiseScale = 1 } = step;
  checkStep(step, fn);
  if (!(noiseScale >= 0 && Number.isFinite(noiseScale))) throw new Error(`${fn}: step.noiseScale must be a finite number >= 0, got ${noiseScale}.`);
  const mean = tf.sub(x, tf.mul(delta, rev.drift(x, t)));
  if (noiseScale === 0) return mean;
  const g = rev.scalarDiffusion?.(t);
  if (g === 0) return mean;
  const z = drawNoise(step, x, fn);
  if (g !== undefined) return tf.add(mean, tf.mul(noiseScale * Math.sqrt(delta) * g, z));
  return tf.add(mean, tf.mul(tf.mul(rev.diffusion(x, t), noiseScale * Math.sqrt(delta)), z));
}

/**
 * One step of Heun's method (the explicit trapezoidal rule; Karras et al. 2022, arXiv 2206.00364, Algorithm 1) for a
 * probability-flow ODE dx/dt = f(x, t), from t to t - delta:
 *
 *     d = f(x_t, t),   x' = x_t - delta d,   x_{t - delta} = x_t - (delta / 2) (d + f(x', t - delta))
 *
 * A step that ends at t = 0 is the Euler predictor x' alone: the drift there would query the score at t = 0, where a
 * trained network is never evaluated. `rev` must be an ODE (`scalarDiffusion` 0, as every `probabilityFlow: true`
 * process of `@dale/sde`). Call it inside `tf.tidy`.
 *
 * @returns the state at t - delta, with x's shape
 * @example
 * const flow = reverseLog(sde, score, { probabilityFlow: true });
 * const y1 = heunStep(flow, y, { t: 1, delta: 0.01 });
 */
export function heunStep(rev: ReverseSDE, x: tf.Tensor, step: ReverseStep): tf.Tensor {
  const fn = "heunStep";
  const { t, delta } = step;
  checkStep(step, fn);
  if (rev.scalarDiffusion?.(t) !== 0) {
    throw new Error(`${fn}: rev must be a probability-flow ODE (scalarDiffusion(t) = 0), e.g. reverseLog(sde, score, { probabilityFlow: true }).`);
  }
  const d = rev.drift(x, t);
  const xEuler = tf.sub(x, tf.mul(delta, d));
  const tNext = t - delta;
  if (tNext <= 1e-12) return xEuler;
  const dNext = rev.drift(xEuler, tNext);
  return tf.sub(x, tf.mul(delta / 2, tf.add(d, dNext)));
}

/** Z ~ N(0, I) with x's shape, drawn for stream `stream` of `seed` (`normalArray` of `@dale/sde`): update i uses stream i. */
export function standardNormal(x: tf.Tensor, seed: number, stream: number): tf.Tensor {
  return tf.tensor(normalArray(x.size, seed, stream), x.shape);
}

function checkStep(step: ReverseStep, fn: string): void {
  if (typeof step !== "object" || step === null) throw new Error(`${fn}: step must be an object { t, delta }, got ${String(step)}.`);
  if (!Number.isFinite(step.t)) throw new Error(`${fn}: step.t must be a finite number, got ${step.t}.`);
  if (!(step.delta > 0 && Number.isFinite(step.delta))) throw new Error(`${fn}: step.delta must be a finite number > 0, got ${step.delta}.`);
}

function drawNoise(step: EulerMaruyamaStep, x: tf.Tensor, fn: string): tf.Tensor {
  if (typeof step.noise !== "function") {
    throw new Error(`${fn}: step.noise must be a function drawing Z ~ N(0, I) of x's shape when noiseScale is not 0, got ${typeof step.noise}.`);
  }
  const z = step.noise();
  if (!(z instanceof tf.Tensor) || !tf.util.arraysEqual(z.shape, x.shape)) {
    const got = z instanceof tf.Tensor ? `shape [${z.shape}]` : typeof z;
    throw new Error(`${fn}: step.noise() must return a tensor of x's shape [${x.shape}], got ${got}.`);
  }
  return z;
}
