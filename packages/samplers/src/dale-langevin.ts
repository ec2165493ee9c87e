import * as tf from "@tensorflow/tfjs-core";
import { reverseLog, type ScoreFn } from "@dale/sde";
import type { GBMSamplerOptions } from "./gbm-options";
import { checkedScore, checkStart } from "./guards";
import { eulerMaruyamaStep, standardNormal } from "./integrators";
import { inLogSpace, runLoop } from "./run-loop";
import { samplerUpdates } from "./update-plan";

/**
 * The Dale-Langevin sampler (docs/method.md, section 4): Euler-Maruyama ({@link eulerMaruyamaStep}) on GBM's
 * reverse-time SDE in log space, `reverseLog(sde, score)` of `@dale/sde`, followed by exp. With y = log x,
 * h = x * score(x, t) the Hyvarinen score and Z ~ N(0, I), each update is
 *
 *     y <- y + delta sigma^2 h(exp y, t) - delta (mu - 3 sigma^2 / 2) + eta sigma sqrt(delta) Z
 *
 * and the result is x_0 = exp(y_0): every update multiplies x by the positive factor exp(...), so signs never change.
 * eta is the noise scale of the update plan (`updateSchedule`): 1, annealed by the reference schedule, 0 on its
 * noise-free updates and (by default) on the last one. It is exponentiated gradient descent with Langevin noise:
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
  await checkStart(xT, sde, fn);
  const rev = reverseLog(sde, checkedScore(score, fn));
  const updates = samplerUpdates(sde, { ...options, denoise: options.denoise ?? true });
  const seed = options.seed ?? 0;
  return inLogSpace(xT, (yT) =>
    runLoop(yT, updates, { ...options, stateToX: tf.exp }, (y, u, i) =>
      eulerMaruyamaStep(rev, y, { ...u, noise: () => standardNormal(y, seed, i) }),
    ),
  );
}
