// The loss of one training step, shared by dale-train's main loop and, for --workers, by the `dataParallel` shard
// that every worker thread imports (this file is its own tsup entry: dist/shard.js).
import { isMainThread } from "node:worker_threads";
import type * as tf from "@tensorflow/tfjs-core";
import type { DataParallelShard } from "@dale/backend";
import { dsmLoss, mdsmLoss, referenceWeighting, varianceWeighting } from "@dale/losses";
import { toLossModel, type ScoreModel } from "@dale/models";
import { sdeFromJSON, type GBM, type SDE, type SDEJSON, type VESDE, type VPSDE } from "@dale/sde";
import type { ModelInit } from "./config";
import { additiveBatchScore, buildModel } from "./model";

/** The smallest training time: t is uniform on [LOSS_EPS, T]. */
export const LOSS_EPS = 1e-3;

/** A step's randomness: a seed, or the times `t` (`[batch]`) and the `noise` (x0's shape) drawn from it. */
export type StepDraws = { seed: number } | { t: tf.Tensor; noise: tf.Tensor };

/**
 * The trainer's loss for a model and a process: M-DSM for GBM, DSM for VP/VE, the mean over every element of the
 * batch. The mean over a slice is the mean of its samples' means, so a size-weighted average of slices' losses is the
 * full batch's.
 */
export function stepLoss(model: ScoreModel, sde: SDE, weighting: Weighting = "reference"): (x0: tf.Tensor, draws: StepDraws) => tf.Scalar {
  if (sde.kind === "gbm") {
    const net = toLossModel(model, sde as GBM);
    const lambda = weighting === "variance" ? varianceWeighting : referenceWeighting;
    return (x0, draws) => mdsmLoss(net, x0, { sde: sde as GBM, eps: LOSS_EPS, weighting: lambda, ...draws }) as tf.Scalar;
  }
  const net = additiveBatchScore(model, sde as VPSDE | VESDE);
  return (x0, draws) => dsmLoss(net, x0, { sde: sde as VPSDE | VESDE, eps: LOSS_EPS, ...draws }) as tf.Scalar;
}

/** The M-DSM weighting of `dale-train --weighting`. */
export type Weighting = "reference" | "variance";

/** What `createShard` needs to rebuild the trainer's network in a worker (structured-cloneable). */
export interface ShardArgs {
  /** A `unetPresets` name (--workers does not support --model-module). */
  preset: string;
  init: ModelInit;
  sde: SDEJSON;
  weighting?: Weighting;
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
  const model = provided ?? (await buildModel({ preset: args.preset, module: null, init: args.init, quiet: true, input: args.input ?? "x" }));
  const lossOf = stepLoss(model, sdeFromJSON(args.sde), args.weighting);
  return {
    vars: model.variables,
    loss: (inputs) => {
      const [x0, t, noise] = inputs;
      if (!x0 || !t || !noise) throw new Error("dale-train shard: loss([x0, t, noise]) needs three inputs.");
      return lossOf(x0, { t, noise });
    },
  };
}
