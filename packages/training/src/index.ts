// @dale/training: training as a library. `train(options, hooks)` runs a schema-validated configuration with exact
// resume, atomic checkpoints, a one-writer run lock, progress events and data parallelism; `openCheckpoint` loads a
// trained checkpoint and samples it.
export {
  train,
  measureEdm,
  readLossCsv,
  NonFiniteLossError,
  EDM_GBM_SIGMA,
  type TrainHooks,
  type TrainResult,
  type TrainStart,
  type TrainStep,
  type LossRow,
} from "./train";
export {
  DATASETS,
  PROCESSES,
  TRAIN_DEFAULTS,
  learningRateAt,
  MUTABLE_ON_RESUME,
  NOT_INHERITED_ON_RESUME,
  trainConfigSchema,
  trainOptionsSchema,
  extraSchema,
  transformSchema,
  modelInitSchema,
  formatZodError,
  type TrainConfig,
  type TrainOptions,
  type TrainerExtra,
  type ModelInit,
  type Transform,
  type DatasetChoice,
  type ProcessName,
} from "./config";
export { BatchOrder, forward, inverse, KMNIST_TEST_SUBSET, loadTrainingData, trainingBatch, transformFor, type TrainingData } from "./data";
export { buildModel, importModel, PRESET_NAMES, samplerScore, type ModelKit, type PresetName } from "./model";
export { stepLoss, stepTimes, inSlices, LOSS_EPS, type LossRecipe, type StepDraws, type LossAndGrads } from "./loss";
export { CheckpointStore } from "./checkpoint-store";
export { acquireRunLock, readLock, LOCK_FILE, type LockInfo, type RunLock } from "./run-lock";
export { checkGuide, checkpointDir, openCheckpoint, readTrainerManifest, type OpenCheckpoint } from "./open-checkpoint";
export { sampleImages } from "./sample-images";
export { gridPng } from "./grid-png";
