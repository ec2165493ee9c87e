// The loss of one training step, a pure function of (weights, x0, draws): shared by `train`'s main loop and, for
// `workers`, by the data-parallel shard that every worker thread imports (shard.ts).
import type * as tf from "@tensorflow/tfjs-core";
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
