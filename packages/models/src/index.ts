export {
  toLossModel,
  toSamplerScore,
  toAdditiveScore,
  toDenoiser,
  fromFunction,
  modelVariables,
  noiseToHyvarinen,
  hyvarinenToNoise,
} from "./score-model";
export { edmScalings } from "./precondition";
export type {
  ScoreModel,
  OutputKind,
  ModelConfig,
  FunctionModelConfig,
  ApplyOptions,
  BatchScoreFn,
  UNetConfig,
} from "./types";
export type { FromFunctionOptions } from "./score-model";
export {
  createUNet,
  unetVariableShapes,
  unetPresets,
  resolveUNetConfig,
  groupNorm,
  groupsFor,
  silu,
  timestepEmbedding,
  upsampleNearest2x,
  type UNet,
  type CreateUNetOptions,
} from "./unet";
export { Ema } from "./ema";
export {
  saveCheckpoint,
  loadCheckpoint,
  type Checkpoint,
  type CheckpointState,
  type CheckpointManifest,
  type CheckpointFile,
  type NamedTensor,
  type OptimizerLike,
} from "./checkpoint";
export { writeFileAtomic, syncDir } from "@dale/io/node";
export {
  encodeSafetensors,
  decodeSafetensors,
  float32ToFloat16,
  float16ToFloat32,
  type SafetensorsDtype,
  type SafetensorsFile,
  type RawTensor,
} from "@dale/io";
