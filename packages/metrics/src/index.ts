export type { FeatureExtractor } from "./features";
export * from "./torch";
export * from "./inception";
