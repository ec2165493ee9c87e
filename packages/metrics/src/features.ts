import type * as tf from "@tensorflow/tfjs-core";

/**
 * Turns a batch of images into one feature row per image. Images are `[N, H, W, C]` float32 in [0, 1] (the
 * inverse-transformed samples of `dale-sample --out-npy`); the result is `[N, dim]`.
 */
export interface FeatureExtractor {
  /** What the features are, written into every result so that numbers from different extractors never mix. */
  readonly name: string;
  /** Length of one feature row. */
  readonly dim: number;
  /** Features of a batch. The caller disposes the input; the extractor disposes everything else it creates. */
  features(images: tf.Tensor4D): tf.Tensor2D;
  /** Class probabilities `[N, classes]` for the Inception Score, where the network has a classifier head. */
  logits?(images: tf.Tensor4D): tf.Tensor2D;
  /** `features` and `logits` of a batch from one forward pass, where the network has both: what calling the two gives. */
  featuresAndLogits?(images: tf.Tensor4D): { features: tf.Tensor2D; logits: tf.Tensor2D };
  /** Frees the weights. */
  dispose(): void;
}
