// The `dataParallel` shard of `train({ workers })`: every worker thread imports this module (its own build entry,
// dist/shard.js) and builds a replica of the network whose loss it computes on a slice of each batch.
import { isMainThread } from "node:worker_threads";
import type { DataParallelShard } from "@dale/backend/node";
import type { ScoreModel } from "@dale/models";
import { sdeFromJSON, type SDEJSON } from "@dale/sde";
import type { ModelInit } from "./config";
import { stepLoss, type LossRecipe } from "./loss";
import { buildModel } from "./model";

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
const MAIN_MODEL = Symbol.for("@dale/training/shard:main-model");
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
  const model = provided ?? (await buildModel({ preset: args.preset, module: null, init: args.init, input: args.input ?? "x", edm: args.recipe.edm }));
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
