export { mdsmLoss, mesmLoss, mdsmTarget, type MultiplicativeLossOptions } from "./multiplicative";
export { nonNegativeScoreMatching, type NonNegativeScoreMatchingOptions } from "./nnsm";
export { dsmLoss, type DSMOptions } from "./additive";
export {
  referenceWeighting,
  varianceWeighting,
  likelihoodWeighting,
  uniformWeighting,
  type Weighting,
} from "./weighting";
export { sampleTimes, type BatchScoreFn, type Draws, type Reduction } from "./common";
