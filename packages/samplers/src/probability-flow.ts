import * as tf from "@tensorflow/tfjs-core";
import { reverseLog, type GBM, type ScoreFn } from "@dale/sde";
import { checkedScore, checkStart } from "./guards";
import { heunStep } from "./integrators";
import { inLogSpace, runLoop, type BaseSamplerOptions } from "./run-loop";
import { samplerUpdates } from "./update-plan";

/** Options of the probability-flow ODE solver. */
export interface ProbabilityFlowOptions extends Omit<BaseSamplerOptions, "seed"> {
  sde: GBM;
}

/**
 * The probability-flow ODE of GBM in log space, `reverseLog(sde, score, { probabilityFlow: true })` of `@dale/sde`
 * (docs/method.md, section 3), integrated with Heun's method ({@link heunStep}; Karras et al. 2022, arXiv 2206.00364,
 * Algorithm 1) and followed by exp:
 *
 *     dy/dt = F(y, t) = (mu - sigma^2) - (sigma^2 / 2) h(exp y, t),   y = log x
 *
 * It has the reverse SDE's marginals, injects no noise (deterministic given xT), and keeps signs. Each step from t to
 * t - delta takes an Euler predictor and a trapezoidal corrector; the last step, which ends at t = 0 where a trained
 * network is never queried, is a plain Euler step. Network evaluations: 2 steps - 1.
 *
 * @returns the state at t = 0, with xT's shape
 * @example
 * const x0 = await probabilityFlow(score, sde.prior.sample([64, 1], 1), { sde, steps: 18, grid: "karras" });
 */
export async function probabilityFlow(score: ScoreFn, xT: tf.Tensor, options: ProbabilityFlowOptions): Promise<tf.Tensor> {
  const fn = "probabilityFlow";
  const { sde } = options;
  await checkStart(xT, sde, fn);
  const flow = reverseLog(sde, checkedScore(score, fn), { probabilityFlow: true });
  const updates = samplerUpdates(sde, options);
  return inLogSpace(xT, (yT) => runLoop(yT, updates, { ...options, stateToX: tf.exp }, (y, u) => heunStep(flow, y, u)));
}
