export { daleLangevin, signAgnostic, probabilityFlow, type GBMSamplerOptions, type ProbabilityFlowOptions } from "./gbm";
export {
  eulerMaruyama,
  predictorCorrector,
  type EulerMaruyamaOptions,
  type PredictorCorrectorOptions,
} from "./additive";
export {
  timeLevels,
  updateSchedule,
  countNonPositive,
  type StepInfo,
  type BaseSamplerOptions,
  type Update,
} from "./loop";
export { referencePresets, type ReferencePreset, type ReferenceSchedule, type ReferenceDataset } from "./presets";
export { toStein, hyvarinen } from "@dale/scores";
