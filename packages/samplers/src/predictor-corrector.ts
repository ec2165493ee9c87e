import * as tf from "@tensorflow/tfjs-core";
import { reverse, type ScoreFn } from "@dale/sde";
import type { EulerMaruyamaOptions } from "./euler-maruyama";
import { checkedScore, checkStart } from "./guards";
import { eulerMaruyamaStep, standardNormal } from "./integrators";
import { runLoop } from "./run-loop";
import { samplerUpdates } from "./update-plan";

export interface PredictorCorrectorOptions extends EulerMaruyamaOptions {
  /** Target signal-to-noise ratio of the Langevin corrector. Default 0.16 (score_sde's CIFAR-10 VP setting). */
  snr?: number;
  /** Langevin corrector updates per level. Default 1. */
  correctorSteps?: number;
}

/**
 * Predictor-corrector sampling (Song et al. 2021, arXiv 2011.13456, Algorithm 1 with score_sde's `LangevinCorrector`):
 * at each level, `correctorSteps` Langevin updates with the step chosen from the target SNR,
 *
 *     eps = 2 alpha (snr ||Z|| / ||score||)^2,   x <- x + eps score(x, t) + sqrt(2 eps) Z
 *
 * (alpha = exp(-int beta) over the step for VP, 1 for VE; norms are per-sample and averaged), then one Euler-Maruyama
 * predictor ({@link eulerMaruyamaStep}) on the reverse-time SDE `reverse(sde, score)` of `@dale/sde`.
 * Network evaluations: (1 + correctorSteps) steps.
 */
export async function predictorCorrector(
  score: ScoreFn,
  xT: tf.Tensor,
  options: PredictorCorrectorOptions,
): Promise<tf.Tensor> {
  const fn = "predictorCorrector";
  const { sde, snr = 0.16, correctorSteps = 1 } = options;
  await checkStart(xT, sde, fn);
  if (!(snr > 0)) throw new Error(`${fn}: snr must be positive, got ${snr}.`);
  if (!Number.isInteger(correctorSteps) || correctorSteps < 0) {
    throw new Error(`${fn}: correctorSteps must be a non-negative integer, got ${correctorSteps}.`);
  }
  const s = checkedScore(score, fn);
  const rev = reverse(sde, s);
  const updates = samplerUpdates(sde, { ...options, denoise: options.denoise ?? true });
  const seed = options.seed ?? 0;
  const perSampleNorm = (v: tf.Tensor) => tf.mean(tf.norm(tf.reshape(v, [v.shape[0] ?? 1, -1]), "euclidean", 1));
  return runLoop(xT, updates, options, (x0, u, i) => {
    let x = x0;
    // score_sde's Langevin step size scales with alpha_i = 1 - beta_i, the VP-SDE's discrete retention over the step.
    // Written as exp(-int beta) over [t - delta, t]: equal to 1 - beta delta up to O(delta^2) on fine grids, and still
    // positive on coarse ones, where 1 - beta delta goes negative (beta_max 20 with 10 levels gives -1), the step size
    // with it, and sqrt(2 eps) turns every sample into NaN.
    const alpha = sde.kind === "vp" ? Math.exp(-(sde.beta.integral(u.t) - sde.beta.integral(Math.max(0, u.t - u.delta)))) : 1;
    for (let c = 0; c < correctorSteps; c++) {
      const grad = s(x, u.t);
      // Streams past the predictor's: update i uses stream i for the predictor and (c + 1) * 2^20 + i here.
      const z = standardNormal(x, seed, (c + 1) * 1048576 + i);
      const ratio = tf.div(tf.mul(snr, perSampleNorm(z)), perSampleNorm(grad));
      const eps = tf.mul(2 * alpha, tf.square(ratio));
      x = tf.add(tf.add(x, tf.mul(eps, grad)), tf.mul(tf.sqrt(tf.mul(2, eps)), z));
    }
    const predictor = x;
    return eulerMaruyamaStep(rev, predictor, { ...u, noise: () => standardNormal(predictor, seed, i) });
  });
}
