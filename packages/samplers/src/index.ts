// The reference samplers: one file per algorithm, each an integrator step (integrators.ts) applied to a reverse
// process of @dale/sde.
export { daleLangevin } from "./dale-langevin";
export { signAgnostic } from "./sign-agnostic";
export { probabilityFlow, type ProbabilityFlowOptions } from "./probability-flow";
export { eulerMaruyama, type EulerMaruyamaOptions } from "./euler-maruyama";
export { predictorCorrector, type PredictorCorrectorOptions } from "./predictor-corrector";
export type { GBMSamplerOptions } from "./gbm-options";
export { eulerMaruyamaStep, heunStep, standardNormal, type ReverseStep, type EulerMaruyamaStep } from "./integrators";
// Time grids, the update plan (the reference schedule), the loop's options and progress, and the guards.
export { timeLevels, timeGrid, noiseLevel, type TimeGrid, type GridOptions } from "./grids";
export { updateSchedule, samplerUpdates, type ScheduleOptions, type Update } from "./update-plan";
export type { StepInfo, BaseSamplerOptions } from "./run-loop";
export { countNonPositive } from "./guards";
export { referencePresets, type ReferencePreset, type ReferenceSchedule, type ReferenceDataset } from "./presets";
export { toStein, hyvarinen } from "@dale/scores";
// The SDE factories and reverse processes, so that installing @dale/samplers alone is enough to sample.
export {
  gbm,
  vpSDE,
  veSDE,
  lognormalPrior,
  geometricSchedule,
  noiseCoordinates,
  reverse,
  reverseLog,
  type AnySDE,
  type GBM,
  type VPSDE,
  type VESDE,
  type ScoreFn,
  type ReverseSDE,
} from "@dale/sde";
// The sigma-space solvers: one file per solver under solvers/, and their catalogue.
export {
  karrasSigmas,
  euler,
  heun,
  edmStochastic,
  dpmpp2m,
  dpmpp2mSde,
  solvers,
  SOLVER_NAMES,
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
export { autoguidance } from "./guidance";
// One catalogue of every sampler, and one call that runs any of them.
export {
  samplerCatalogue,
  SAMPLER_NAMES,
  REFERENCE_SAMPLER_NAMES,
  GRID_NAMES,
  DEFAULT_SOLVER,
  isSamplerName,
  isSolver,
  samplerNfe,
  stepsForNfe,
  stepsWithinBudget,
  defaultSampler,
  checkSampler,
  checkSamplerChoice,
  isInsidePath,
  type SamplerChoice,
  type SamplerName,
  type ReferenceSamplerName,
  type GridName,
  type ProcessFamily,
  type SamplerSchedule,
  type SamplerEntry,
} from "./sampler-catalogue";
export { runSampler, type RunSamplerOptions, type SamplerProgress } from "./run-sampler";
export { sampleBatches, type BatchProgress, type SampleBatchesOptions } from "./sample-batches";
