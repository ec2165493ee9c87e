import type * as tf from "@tensorflow/tfjs-core";
import { reverse, type ScoreFn } from "@dale/sde";
import type { GBMSamplerOptions } from "./gbm-options";
import { checkedScore, checkStart } from "./guards";
import { eulerMaruyamaStep, standardNormal } from "./integrators";
import { runLoop } from "./run-loop";
import { samplerUpdates } from "./update-plan";

/**
 * The sign-agnostic sampler (docs/method.md, section 4): Euler-Maruyama ({@link eulerMaruyamaStep}) on GBM's
 * reverse-time SDE in ambient space, `reverse(sde, score)` of `@dale/sde` (Anderson's formula with f = mu x,
 * g = sigma x, div(g g^T) = 2 sigma^2 x). With h = x * score(x, t) and Z ~ N(0, I), each update is
 *
 *     x <- x - delta x [ (mu - 2 sigma^2) - sigma^2 h(x, t) ] + eta sigma x sqrt(delta) Z
 *        = x * [ (1 + 2 delta sigma^2) - delta mu + delta sigma^2 h(x, t) + eta sigma sqrt(delta) Z ]
 *
 * where eta is the noise scale of the update plan (as in `daleLangevin`). The bracket can go negative at coarse
 * steps, so coordinates can leave the positive orthant; the callback reports how many have (`info.nonPositive`).
 *
 * @returns the state at t = 0, with xT's shape (values may be <= 0, or NaN where the score was evaluated there)
 */
export async function signAgnostic(score: ScoreFn, xT: tf.Tensor, options: GBMSamplerOptions): Promise<tf.Tensor> {
  const fn = "signAgnostic";
  const { sde } = options;
  await checkStart(xT, sde, fn);
  const rev = reverse(sde, checkedScore(score, fn));
  const updates = samplerUpdates(sde, { ...options, denoise: options.denoise ?? true });
  const seed = options.seed ?? 0;
  return runLoop(xT, updates, { ...options, countNonPositive: true }, (x, u, i) =>
    eulerMaruyamaStep(rev, x, { ...u, noise: () => standardNormal(x, seed, i) }),
  );
}
