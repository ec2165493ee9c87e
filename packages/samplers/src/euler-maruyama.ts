import type * as tf from "@tensorflow/tfjs-core";
import { reverse, type ScoreFn, type VESDE, type VPSDE } from "@dale/sde";
import { checkedScore, checkStart } from "./guards";
import { eulerMaruyamaStep, standardNormal } from "./integrators";
import { runLoop, type BaseSamplerOptions } from "./run-loop";
import { samplerUpdates } from "./update-plan";

export interface EulerMaruyamaOptions extends BaseSamplerOptions {
  /** An additive SDE (VP or VE). */
  sde: VPSDE | VESDE;
  /** Return the mean of the last update, without its noise (score_sde's `denoise=True`). Default true. */
  denoise?: boolean;
}

/**
 * Euler-Maruyama ({@link eulerMaruyamaStep}) on the reverse-time SDE `reverse(sde, score)` of `@dale/sde`
 * (score_sde's `EulerMaruyamaPredictor`, Song et al. 2021, arXiv 2011.13456): with the reverse drift f - g^2 score,
 *
 *     x <- x - delta (f(x, t) - g(t)^2 score(x, t)) + g(t) sqrt(delta) Z
 *
 * @returns the state at t = 0
 * @example
 * const x0 = await eulerMaruyama(score, vpSDE().prior.sample([16, 2], 0), { sde: vpSDE(), steps: 500 });
 */
export async function eulerMaruyama(score: ScoreFn, xT: tf.Tensor, options: EulerMaruyamaOptions): Promise<tf.Tensor> {
  const fn = "eulerMaruyama";
  await checkStart(xT, options.sde, fn);
  const rev = reverse(options.sde, checkedScore(score, fn));
  const updates = samplerUpdates(options.sde, { ...options, denoise: options.denoise ?? true });
  const seed = options.seed ?? 0;
  return runLoop(xT, updates, options, (x, u, i) => eulerMaruyamaStep(rev, x, { ...u, noise: () => standardNormal(x, seed, i) }));
}
