import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { createUNet, fromFunction, toAdditiveScore, toLossModel, toSamplerScore, unetPresets, type ScoreModel, type UNetConfig } from "@dale/models";
import type { AnySDE, ScoreFn, VESDE, VPSDE } from "@dale/sde";
import type { ModelInit } from "./config";

export type PresetName = keyof typeof unetPresets;
export const PRESET_NAMES = Object.keys(unetPresets) as PresetName[];

/** Builds the network: a `unetPresets` U-Net fitted to the data's size, or the user's module's `createModel(init)`. */
export async function buildModel(options: {
  preset: string | null;
  module: string | null;
  init: ModelInit;
  /** Receives notes, such as a preset used at another image size than its own (default: none). */
  note?: (message: string) => void;
  input?: "x" | "log";
  /** The EDM recipe's constants: the preset becomes a preconditioned denoiser of y_0 with this mean and std. */
  edm?: { sigmaData: number; mean: number } | null;
}): Promise<ScoreModel> {
  const { preset, module, init } = options;
  if (module !== null) return importModel(module, init);
  if (preset === null || !(preset in unetPresets)) {
    throw new Error(`--model must be one of ${PRESET_NAMES.join(", ")}, got ${JSON.stringify(preset)}.`);
  }
  const base = unetPresets[preset as PresetName];
  const config: UNetConfig = {
    ...base,
    imageSize: [...init.imageSize],
    channels: init.channels,
    chMult: [...base.chMult],
    attnResolutions: [...base.attnResolutions],
    ...(options.input === "log" ? { input: "log" as const } : {}),
    ...(options.edm ? { output: "denoiser" as const, precondition: { sigmaData: options.edm.sigmaData, mean: options.edm.mean } } : {}),
  };
  if (options.note && (base.imageSize[0] !== init.imageSize[0] || base.imageSize[1] !== init.imageSize[1] || base.channels !== init.channels)) {
    options.note(
      `preset ${preset} is for ${base.imageSize.join("x")}x${base.channels}; using it at ${init.imageSize.join("x")}x${init.channels}.`,
    );
  }
  return createUNet(config, { seed: init.seed });
}

/**
 * What a `--model-module`'s `createModel(init, kit)` receives as `kit`: the trainer's own tfjs-core and `fromFunction`.
 * A module outside this installation resolves `@tensorflow/tfjs-core` to another copy (or to none), whose tensors the
 * trainer's engine cannot use; building the network with `kit.tf` avoids that.
 */
export interface ModelKit {
  tf: typeof tf;
  fromFunction: typeof fromFunction;
}

/** Imports a user's ES module and calls its `createModel(init, kit)`, checking that the result is a ScoreModel. */
export async function importModel(path: string, init: ModelInit): Promise<ScoreModel> {
  const url = pathToFileURL(resolve(path)).href;
  let mod: { createModel?: unknown };
  try {
    mod = (await import(url)) as { createModel?: unknown };
  } catch (e) {
    throw new Error(`--model-module ${path}: cannot import it (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (typeof mod.createModel !== "function") throw new Error(`--model-module ${path}: it must export a function createModel(config).`);
  const kit: ModelKit = { tf, fromFunction };
  const model = (await (mod.createModel as (c: ModelInit, k: ModelKit) => unknown)(init, kit)) as ScoreModel;
  if (!model || typeof model.apply !== "function" || !Array.isArray(model.variables) || typeof model.output !== "string" || !model.config) {
    throw new Error(`--model-module ${path}: createModel(config) must return a ScoreModel (wrap your function with fromFunction from @dale/models).`);
  }
  if (model.variables.length === 0) throw new Error(`--model-module ${path}: the model has no trainable variables (pass them to fromFunction).`);
  if (!model.variables.every((v) => v instanceof tf.Variable)) {
    throw new Error(
      `--model-module ${path}: its variables come from another copy of @tensorflow/tfjs-core than the trainer's (the module resolves its own). ` +
        `Build the network with the tfjs and fromFunction that createModel receives as its second argument: createModel(config, { tf, fromFunction }).`,
    );
  }
  return model;
}

/** The Stein score `(x, t[batch])` of a model under VP/VE, for the DSM loss (see `toAdditiveScore`). */
export function additiveBatchScore(model: ScoreModel, sde: VPSDE | VESDE): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  if (model.output === "hyvarinen") throw new Error(`a "hyvarinen" model cannot be trained with the additive ${sde.kind} process; use --process gbm.`);
  return toAdditiveScore(model, sde);
}

/** The sampler-side score `(x, t: number)` of a model, for any of the three processes. */
export function samplerScore(model: ScoreModel, sde: AnySDE): ScoreFn {
  return toSamplerScore(model, sde);
}

/** The loss-side score `(x, t[batch])` of a model for GBM (see `toLossModel`). */
export { toLossModel };
