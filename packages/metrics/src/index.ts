export type { FeatureExtractor } from "./features";
