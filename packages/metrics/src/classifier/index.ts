export {
  classifierFromBytes,
  DEFAULT_FEATURE_DIM,
  DEFAULT_WIDTHS,
  type Classifier,
  type ClassifierConfig,
  type ClassifierInfo,
  type Evaluation,
} from "./classifier";
export { splitFixed, takeImages, type LabelledImages } from "./data";
export { trainClassifier, type TrainClassifierOptions, type TrainProgress } from "./train";
export { defaultClassifierCacheDir, loadClassifier, loadOrTrainClassifier, saveClassifier, type LoadOrTrainOptions } from "./cache";
export { classifierFeatureExtractor, classifierFeatureName } from "./extractor";
