export { gbm, fitPrior, gbmFromJSON, type GBM, type GBMOptions, type PriorFit } from "./gbm";
export { vpSDE, veSDE, vpFromJSON, type VPSDE, type VESDE } from "./additive";
export { reverse, reverseLog, type ReverseSDE, type ReverseOptions } from "./reverse";
export { lognormalPrior, normalPrior, priorFromJSON, type PriorParams } from "./prior";
export {
  constantSchedule,
  linearSchedule,
  geometricSchedule,
  customSchedule,
  scheduleFromJSON,
  type Schedule,
  type ScheduleJSON,
} from "./schedule";
export { randomNormal, normalArray, uniformArray } from "./random";
export { lognormalMoments } from "./moments";
export { sdeFromJSON } from "./json";
export { noiseLevel, timeAtNoiseLevel, noiseCoordinates, scoreDenoiser, type NoiseCoordinates } from "./coordinates";
export {
  assertPositive,
  assertPositiveAsync,
  assertAllFinite,
  assertAllFiniteAsync,
  assertNonEmpty,
  assertFloat,
  assertSameShape,
  assertOneOf,
  checkTimes,
  timeTensor,
  perSample,
  type TimeCheck,
} from "./util";
export type { SDE, SDEJSON, Marginal, Prior, PriorJSON, ScoreFn, BatchScoreFn, Time } from "./types";
export type { AnySDE } from "./any-sde";
