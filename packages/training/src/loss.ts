// The loss of one training step, a pure function of (weights, x0, draws): shared by `train`'s main loop and, for
// `workers`, by the data-parallel shard that every worker thread imports (shard.ts).
import * as tf from "@tensorflow/tfjs-core";
import { dsmLoss, edmDsmWeighting, edmWeighting, mdsmLoss, referenceWeighting, sampleNoiseLevelTimes, sampleTimes, varianceWeighting } from "@dale/losses";
import { toLossModel, type ScoreModel } from "@dale/models";
import type { AnySDE, SDE } from "@dale/sde";
import type { TrainConfig } from "./config";
import { additiveBatchScore } from "./model";

/** The smallest training time: t is uniform on [LOSS_EPS, T]. */
export const LOSS_EPS = 1e-3;

/** A step's randomness: a seed, or the times `t` (`[batch]`) and the `noise` (x0's shape) drawn from it. */
export type StepDraws = { seed: number } | { t: tf.Tensor; noise: tf.Tensor };

/** How a run trains: the recipe, the reference recipe's M-DSM weighting, and the EDM recipe's measured constants. */
export type LossRecipe = Pick<TrainConfig, "recipe" | "weighting" | "edm">;

/** The smallest training time of a recipe: the additive EDM recipe reaches down to sigma ~ 1e-3 (VP) as EDM does. */
function epsFor(sde: SDE, recipe: LossRecipe): number {
  return recipe.recipe === "edm" && sde.kind !== "gbm" ? 1e-5 : LOSS_EPS;
}

/**
 * The per-sample training times of one step, drawn from `seed`: uniform on [eps, T] for the reference recipe, EDM's
 * log-normal noise levels (`sampleNoiseLevelTimes`) for the EDM recipe. `[batch]`.
 */
export function stepTimes(sde: SDE, recipe: LossRecipe, batch: number, seed: number): tf.Tensor1D {
  const eps = epsFor(sde, recipe);
  if (recipe.recipe === "edm") {
    if (recipe.edm === null) throw new Error("stepTimes: the EDM recipe needs its measured constants (config.edm).");
    return sampleNoiseLevelTimes(batch, { sde, seed, eps, pMean: recipe.edm.pMean, pStd: recipe.edm.pStd });
  }
  return sampleTimes(batch, { T: sde.T, seed, eps }) as tf.Tensor1D;
}

/**
 * The trainer's loss for a model and a process: M-DSM for GBM, DSM for VP/VE, the mean over every element of the
 * batch. The mean over a slice is the mean of its samples' means, so a size-weighted average of slices' losses is the
 * full batch's. The EDM recipe is the same losses with EDM's weighting (`edmWeighting`, `edmDsmWeighting`) and
 * log-normal noise levels.
 */
export function stepLoss(model: ScoreModel, sde: AnySDE, recipe: LossRecipe): (x0: tf.Tensor, draws: StepDraws) => tf.Scalar {
  const eps = epsFor(sde, recipe);
  const edm = recipe.recipe === "edm" ? recipe.edm : null;
  if (recipe.recipe === "edm" && edm === null) throw new Error("stepLoss: the EDM recipe needs its measured constants (config.edm).");
  // With only a seed, draw the recipe's times here (the loss would draw uniform ones); the noise comes from the seed.
  const withTimes = <T>(x0: tf.Tensor, draws: StepDraws, f: (d: StepDraws & { t?: tf.Tensor }) => T): T => {
    if ("t" in draws) return f(draws);
    const t = stepTimes(sde, recipe, x0.shape[0] as number, draws.seed);
    try {
      return f({ ...draws, t });
    } finally {
      t.dispose();
    }
  };
  switch (sde.kind) {
    case "gbm": {
      const gbm = sde;
      const net = toLossModel(model, gbm);
      const lambda = edm ? edmWeighting(edm.sigmaData) : recipe.weighting === "variance" ? varianceWeighting : referenceWeighting;
      return (x0, draws) => withTimes(x0, draws, (d) => mdsmLoss(net, x0, { sde: gbm, eps, weighting: lambda, ...d }) as tf.Scalar);
    }
    case "vp":
    case "ve": {
      const additive = sde;
      const net = additiveBatchScore(model, additive);
      const weighting = edm ? edmDsmWeighting(additive, edm.sigmaData) : undefined;
      return (x0, draws) =>
        withTimes(x0, draws, (d) => dsmLoss(net, x0, { sde: additive, eps, ...(weighting ? { weighting } : {}), ...d }) as tf.Scalar);
    }
  }
}

/** A loss value and its gradients with respect to the trained variables. */
export interface LossAndGrads {
  loss: number;
  grads: tf.NamedTensorMap;
}

/**
 * Gradient accumulation (the trainer's `microBatch`): the loss and gradients of a batch computed in slices of at most
 * `micro` rows. `arrays` share their first dimension, the batch (x0, t and noise); `pass` computes the mean loss of
 * one slice of each and its gradients. The loss is a mean over the batch, so the batch's loss and gradients are the
 * slices' weighted by slice size / batch size, which is what is returned, up to float rounding. Gradients are summed
 * as they come, so that only one slice's activations are alive at a time; `pass`'s gradients are disposed here, and
 * the caller owns the result. With `micro` >= the batch, it is one pass.
 */
export async function inSlices(arrays: readonly tf.Tensor[], micro: number, pass: (slice: tf.Tensor[]) => Promise<LossAndGrads>): Promise<LossAndGrads> {
  if (!Number.isInteger(micro) || micro < 1) throw new Error(`inSlices: micro must be a positive integer, got ${micro}.`);
  const n = arrays[0]?.shape[0];
  if (n === undefined || n < 1) throw new Error("inSlices: arrays must hold at least one tensor with a non-empty first dimension.");
  for (const a of arrays) {
    if (a.shape[0] !== n) throw new Error(`inSlices: every array must have the batch (${n}) as its first dimension; got shape [${a.shape.join(", ")}].`);
  }
  let loss = 0;
  let sum: tf.NamedTensorMap | null = null;
  try {
    for (let begin = 0; begin < n; begin += micro) {
      const size = Math.min(micro, n - begin);
      const part = arrays.map((a) => tf.slice(a, begin, size));
      let result: LossAndGrads;
      try {
        result = await pass(part);
      } finally {
        tf.dispose(part);
      }
      const w = size / n;
      loss += w * result.loss;
      const before: tf.NamedTensorMap | null = sum;
      const grads = result.grads;
      sum = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, before === null ? tf.mul(g, w) : tf.add(before[k] as tf.Tensor, tf.mul(g, w))])));
      tf.dispose(Object.values(grads));
      if (before !== null) tf.dispose(Object.values(before));
    }
  } catch (e) {
    if (sum !== null) tf.dispose(Object.values(sum));
    throw e;
  }
  return { loss, grads: sum as tf.NamedTensorMap };
}
