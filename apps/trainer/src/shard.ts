// The loss of one training step, shared by dale-train's main loop and, for --workers, by the `dataParallel` shard
// that every worker thread imports (this file is its own tsup entry: dist/shard.js).
import { isMainThread } from "node:worker_threads";
import type * as tf from "@tensorflow/tfjs-core";
import type { DataParallelShard } from "@dale/backend";
import { dsmLoss, edmDsmWeighting, edmWeighting, mdsmLoss, referenceWeighting, sampleNoiseLevelTimes, sampleTimes, varianceWeighting } from "@dale/losses";
import { toLossModel, type ScoreModel } from "@dale/models";
import { sdeFromJSON, type AnySDE, type SDE, type SDEJSON } from "@dale/sde";
import type { ModelInit, TrainConfig } from "./config";
import { additiveBatchScore, buildModel } from "./model";

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

/** What `createShard` needs to rebuild the trainer's network in a worker (structured-cloneable). */
export interface ShardArgs {
  /** A `unetPresets` name (--workers does not support --model-module). */
  preset: string;
  init: ModelInit;
  sde: SDEJSON;
  recipe: LossRecipe;
  /** The U-Net's input (`--model-input`). */
  input?: "x" | "log";
}

// The trainer's own model, for the main thread's shard: its variables are the master weights that the trainer's
// optimizer, EMA and checkpoints use. A global symbol, so it is found whichever bundle chunk sets it.
const MAIN_MODEL = Symbol.for("@dale/trainer/shard:main-model");
type Registry = { [MAIN_MODEL]?: ScoreModel };

/** Makes the next `createShard` in the main thread use `model` instead of building one (null: forget it). */
export function provideMainModel(model: ScoreModel | null): void {
  if (model === null) delete (globalThis as Registry)[MAIN_MODEL];
  else (globalThis as Registry)[MAIN_MODEL] = model;
}

/**
 * The `dataParallel` shard factory: the preset's network (in a worker, a new replica whose weights `dataParallel`
 * overwrites before every call; in the main thread, the model given to `provideMainModel`) and
 * `loss([x0, t, noise])`, the trainer's loss on that slice with the given draws.
 */
export async function createShard(args: ShardArgs): Promise<DataParallelShard> {
  const provided = isMainThread ? (globalThis as Registry)[MAIN_MODEL] : undefined;
  const model = provided ?? (await buildModel({ preset: args.preset, module: null, init: args.init, quiet: true, input: args.input ?? "x", edm: args.recipe.edm }));
  const lossOf = stepLoss(model, sdeFromJSON(args.sde), args.recipe);
  return {
    vars: model.variables,
    loss: (inputs) => {
      const [x0, t, noise] = inputs;
      if (!x0 || !t || !noise) throw new Error("dale-train shard: loss([x0, t, noise]) needs three inputs.");
      return lossOf(x0, { t, noise });
    },
  };
}
