import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { createUNet, toLossModel, toSamplerScore, unetPresets, type ScoreModel, type UNetConfig } from "@dale/models";
import type { GBM, SDE, ScoreFn, VESDE, VPSDE } from "@dale/sde";
import type { ModelInit } from "./config";

export type PresetName = keyof typeof unetPresets;
export const PRESET_NAMES = Object.keys(unetPresets) as PresetName[];

/** Builds the network: a `unetPresets` U-Net fitted to the data's size, or the user's module's `createModel(init)`. */
export async function buildModel(options: { preset: string | null; module: string | null; init: ModelInit; quiet?: boolean }): Promise<ScoreModel> {
  const { preset, module, init } = options;
  if (module !== null) return importModel(module, init);
  if (preset === null || !(preset in unetPresets)) {
    throw new Error(`--model must be one of ${PRESET_NAMES.join(", ")}, got ${JSON.stringify(preset)}.`);
  }
  const base = unetPresets[preset as PresetName];
  const config: UNetConfig = { ...base, imageSize: [...init.imageSize], channels: init.channels, chMult: [...base.chMult], attnResolutions: [...base.attnResolutions] };
  if (options.quiet !== true && (base.imageSize[0] !== init.imageSize[0] || base.imageSize[1] !== init.imageSize[1] || base.channels !== init.channels)) {
    console.error(
      `[train] note: preset ${preset} is for ${base.imageSize.join("x")}x${base.channels}; using it at ${init.imageSize.join("x")}x${init.channels}.`,
    );
  }
  return createUNet(config, { seed: init.seed });
}

/** Imports a user's ES module and calls its `createModel(init)`, checking that the result is a ScoreModel. */
export async function importModel(path: string, init: ModelInit): Promise<ScoreModel> {
  const url = pathToFileURL(resolve(path)).href;
  let mod: { createModel?: unknown };
  try {
    mod = (await import(url)) as { createModel?: unknown };
  } catch (e) {
    throw new Error(`--model-module ${path}: cannot import it (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (typeof mod.createModel !== "function") throw new Error(`--model-module ${path}: it must export a function createModel(config).`);
  const model = (await (mod.createModel as (c: ModelInit) => unknown)(init)) as ScoreModel;
  if (!model || typeof model.apply !== "function" || !Array.isArray(model.variables) || typeof model.output !== "string" || !model.config) {
    throw new Error(`--model-module ${path}: createModel(config) must return a ScoreModel (wrap your function with fromFunction from @dale/models).`);
  }
  if (model.variables.length === 0) throw new Error(`--model-module ${path}: the model has no trainable variables (pass them to fromFunction).`);
  return model;
}

/** b(t), the marginal std of an additive SDE at the times of `t` (`[batch]`), shaped to broadcast against x. */
function additiveStd(sde: VPSDE | VESDE, t: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const marginal = sde.marginal(tf.ones([t.shape[0] as number]), t);
  if (marginal.family !== "normal") throw new Error(`expected a normal marginal from the ${sde.kind} SDE.`);
  return tf.reshape(marginal.std, [t.shape[0] as number, ...new Array<number>(x.rank - 1).fill(1)]);
}

/**
 * The Stein score of a model for an additive SDE: a `"noise"` output z_hat predicts Z in x_t = a x_0 + b Z, so
 * score = -z_hat / b(t); a `"stein"` output is used as is. A `"hyvarinen"` output has no meaning off the positive orthant.
 */
export function additiveBatchScore(model: ScoreModel, sde: VPSDE | VESDE): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  if (model.output === "hyvarinen") throw new Error(`a "hyvarinen" model cannot be trained with the additive ${sde.kind} process; use --process gbm.`);
  return (x, t) =>
    tf.tidy(() => {
      const out = model.apply(x, t);
      return model.output === "stein" ? out : tf.neg(tf.div(out, additiveStd(sde, t, x)));
    });
}

/** The sampler-side score `(x, t: number)` of a model, for any of the three processes. */
export function samplerScore(model: ScoreModel, sde: SDE): ScoreFn {
  if (sde.kind === "gbm") return toSamplerScore(model, sde as GBM);
  const batchScore = additiveBatchScore(model, sde as VPSDE | VESDE);
  return (x: tf.Tensor, t: number) => tf.tidy(() => batchScore(x, tf.fill([x.shape[0] as number], t, "float32")));
}

/** The loss-side score `(x, t[batch])` of a model for GBM (see `toLossModel`). */
export { toLossModel };
