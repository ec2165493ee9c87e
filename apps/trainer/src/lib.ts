// The trainer's library entry (`@dale/trainer/lib`): what other apps of this repository (the benchmark) reuse to read
// the trainer's data and checkpoints, to sample from them, and to run dale-train itself in a process of their own
// (`trainCli`; what makes a single bundle of the benchmark, e.g. for the GPU machine, possible).
export { checkpointDir, openCheckpoint, readTrainerManifest, type OpenCheckpoint } from "./open";
export { checkSampler, defaultSampler, isSolver, sampleImages, samplerNfe, SAMPLERS, SOLVERS, stepsForNfe as samplerStepsForNfe, type SamplerName, type Schedule } from "./sampling";
// The sigma-space solvers' catalogue (NFE per step count and back, stochastic or not, the citation) that SAMPLERS
// names, so that an app sizes its runs from the one table of @dale/samplers.
export { solvers, type SolverName } from "@dale/samplers";
export { forward, inverse, KMNIST_TEST_SUBSET, loadTrainingData, transformFor, type TrainingData } from "./data";
export { DATASETS, PROCESSES, type DatasetChoice, type ProcessName, type TrainerExtra, type Transform } from "./config";
export { gridPng } from "./grid";
export { runTrain, trainCli } from "./train-main";
