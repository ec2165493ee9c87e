import type { FeatureExtractor } from "../features";
import type { Classifier } from "./classifier";

/**
 * A {@link FeatureExtractor} over a classifier's feature layer, for FID and KID where the Inception weights are
 * absent. Its name says what the numbers are, so that they are never taken for FID-Inception, e.g.
 *
 *     classifier:mnist (Dale CNN 32-64-128/128, seed 0, test accuracy 99.02% on 10000, weights sha256 3f9a1c2b4d5e)
 *
 * `logits` gives the class probabilities (softmax), as the interface asks, for the Inception Score. The extractor
 * owns the classifier: its `dispose` frees the weights.
 */
export function classifierFeatureExtractor(classifier: Classifier): FeatureExtractor {
  return {
    name: classifierFeatureName(classifier),
    dim: classifier.config.featureDim,
    features: (images) => classifier.features(images),
    logits: (images) => classifier.probabilities(images),
    featuresAndLogits: (images) => {
      const { features, probabilities } = classifier.featuresAndProbabilities(images);
      return { features, logits: probabilities };
    },
    dispose: () => classifier.dispose(),
  };
}

/** The name {@link classifierFeatureExtractor} gives: dataset, architecture, seed, test accuracy and weights hash. */
export function classifierFeatureName(classifier: Classifier): string {
  const { config, info } = classifier;
  const accuracy = info.testAccuracy === null ? "test accuracy not measured" : `test accuracy ${(100 * info.testAccuracy).toFixed(2)}% on ${info.testCount}`;
  return `classifier:${info.dataset} (Dale CNN ${config.widths.join("-")}/${config.featureDim}, seed ${info.seed}, ${accuracy}, weights sha256 ${classifier.sha256.slice(0, 12)})`;
}
