export { mdsmLoss, mesmLoss, mdsmTarget, type MultiplicativeLossOptions } from "./multiplicative";
export { nonNegativeScoreMatching, type NonNegativeScoreMatchingOptions } from "./nnsm";
export { dsmLoss, type DSMOptions } from "./additive";
export {
  referenceWeighting,
  varianceWeighting,
  likelihoodWeighting,
  uniformWeighting,
  edmWeighting,
  edmDsmWeighting,
  type Weighting,
} from "./weighting";
export { sampleTimes, sampleNoiseLevelTimes, type NoiseLevelDraws, type BatchScoreFn, type Draws, type Reduction } from "./common";
