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
export { Ema, emaDecayAt } from "./ema";
// Checkpoints over bytes (folders are @dale/models/node's: saveCheckpoint, loadCheckpoint, folderSource).
export {
  readCheckpoint,
  checkpointFromFiles,
  parseCheckpointManifest,
  urlSource,
  CHECKPOINT_FILES,
  type Checkpoint,
  type CheckpointState,
  type CheckpointManifest,
  type CheckpointFile,
  type CheckpointFiles,
  type CheckpointSource,
  type LoadCheckpointOptions,
  type NamedTensor,
  type OptimizerLike,
} from "./checkpoint";
// A pretrained model in one call.
export {
  fromPretrained,
  toPixels,
  type PixelTransform,
  type PretrainedConfig,
  type PretrainedPipeline,
  type PretrainedSampleOptions,
  type PretrainedPlan,
  type PretrainedPlanOptions,
  type PretrainedProgress,
  type FromPretrainedOptions,
  type UNetModelConfig,
} from "./pretrained";
// Whether one checkpoint can guide another (autoguidance).
export { guideMismatch, GUIDE_HINT, type GuideFacts } from "./guide";
export {
  encodeSafetensors,
  decodeSafetensors,
  float32ToFloat16,
  float16ToFloat32,
  type SafetensorsDtype,
  type SafetensorsFile,
  type RawTensor,
} from "@dale/io";
