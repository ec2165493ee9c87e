export type { SteinScoreFn, HyvarinenScoreFn, LogScoreFn, ExactDensity } from "./types";
export {
  hyvarinenFromStein,
  steinFromHyvarinen,
  logScoreFromHyvarinen,
  hyvarinenFromLogScore,
  hyvarinen,
  logScore,
  toStein,
  toHyvarinen,
} from "./convert";
export { lognormalMixtureScore, lognormalScore, gaussianMixtureScore, type DiagonalMixture } from "./exact";
