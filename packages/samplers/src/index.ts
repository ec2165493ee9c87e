export { daleLangevin, signAgnostic, probabilityFlow, type GBMSamplerOptions, type ProbabilityFlowOptions } from "./gbm";
export {
  eulerMaruyama,
  predictorCorrector,
  type EulerMaruyamaOptions,
  type PredictorCorrectorOptions,
} from "./additive";
export {
  timeLevels,
  timeGrid,
  noiseLevel,
  updateSchedule,
  samplerUpdates,
  type TimeGrid,
  type GridOptions,
  countNonPositive,
  type StepInfo,
  type BaseSamplerOptions,
  type ScheduleOptions,
  type Update,
} from "./loop";
export { referencePresets, type ReferencePreset, type ReferenceSchedule, type ReferenceDataset } from "./presets";
export { toStein, hyvarinen } from "@dale/scores";
// The SDE factories, so that installing @dale/samplers alone is enough to sample.
export { gbm, vpSDE, veSDE, lognormalPrior, geometricSchedule, noiseCoordinates, type AnySDE, type GBM, type VPSDE, type VESDE, type ScoreFn } from "@dale/sde";
export {
  karrasSigmas,
  euler,
  heun,
  edmStochastic,
  dpmpp2m,
  dpmpp2mSde,
  solvers,
  type Denoiser,
  type SolverInfo,
  type SolverOptions,
  type EdmStochasticOptions,
  type Dpmpp2mSdeOptions,
  type SolverName,
  type SolverOptionsByName,
  type SolverEntry,
} from "./solvers";
export { solveProcess, processSigmas, denoiserFromScore, DEFAULT_SIGMA_MIN, type SolveProcessOptions } from "./process";
