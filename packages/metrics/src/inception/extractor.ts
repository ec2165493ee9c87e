import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import type { FeatureExtractor } from "../features";
import { readTorchStateDict } from "../torch";
import { FidInceptionV3, INCEPTION_CLASSES, INCEPTION_FEATURE_DIM } from "./network";
import { FID_INCEPTION_SHA256_PREFIX, fidInceptionWeights, sha256Hex, type FidInceptionWeightsOptions } from "./weights";

/** The extractor name for the official weights, written into every FID computed with them. */
export const FID_INCEPTION_NAME = "inception-v3-fid-2015-12-05";

export interface InceptionExtractorOptions extends FidInceptionWeightsOptions {
  /**
   * A `.pth` state dict to read instead of the official file (zip or legacy format), e.g. a copy of
   * `pt_inception-2015-12-05-6726825d.pth` kept elsewhere. Its hash is not required to match; the extractor's
   * `name` says which weights were used.
   */
  weights?: string;
  /** Images per forward pass inside `features` / `logits` (memory against speed). Default 8. */
  batchSize?: number;
}

/** A `FeatureExtractor` over the FID Inception-v3, with the network and the weights' provenance. */
export interface InceptionFeatureExtractor extends FeatureExtractor {
  /** `FID_INCEPTION_NAME` for the official weights, else `inception-v3-fid(sha256:<16 hex digits>)`. */
  readonly name: string;
  readonly dim: typeof INCEPTION_FEATURE_DIM;
  /** The weights file read, and its SHA-256. */
  readonly weights: { path: string; sha256: string; official: boolean };
  readonly network: FidInceptionV3;
  /** pool3 features `[N, 2048]` of images `[N, H, W, 1 | 3]` in [0, 1] (any size: resized to 299 x 299). */
  features(images: tf.Tensor4D): tf.Tensor2D;
  /**
   * Inception Score class probabilities `[N, 1008]`: softmax of the unbiased logits `features W^T` (see
   * `FidInceptionV3.probabilities`), despite the interface's method name.
   */
  logits(images: tf.Tensor4D): tf.Tensor2D;
  /** `features` and `logits` (the probabilities) in one pass through the network. */
  featuresAndLogits(images: tf.Tensor4D): { features: tf.Tensor2D; logits: tf.Tensor2D };
}

const FN = "inceptionFeatureExtractor";

/**
 * The FID Inception-v3 (pytorch-fid's port of TensorFlow's 2015-12-05 graph) as a `FeatureExtractor`.
 *
 * Weights come from `options.weights` when given; otherwise from the official file in the cache (`cacheDir`,
 * default `~/.cache/dale/weights`, then torch hub's `~/.cache/torch/hub/checkpoints`, where pytorch-fid keeps it),
 * downloaded only with `download: true` and checked against the SHA-256 prefix `6726825d` of its name. No code in the
 * file is run (see `readTorchStateDict`).
 *
 * @example
 * const inception = await inceptionFeatureExtractor({ download: true });
 * const f = inception.features(images); // [N, 28, 28, 1] in [0, 1] -> [N, 2048]
 * f.dispose(); inception.dispose();
 */
export async function inceptionFeatureExtractor(options: InceptionExtractorOptions = {}): Promise<InceptionFeatureExtractor> {
  if (options === null || typeof options !== "object") throw new Error(`${FN}: options must be an object, got ${String(options)}.`);
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${FN}: options.batchSize must be a positive integer, got ${batchSize}.`);
  let path: string;
  let bytes: Uint8Array;
  let sha256: string;
  if (options.weights !== undefined) {
    if (typeof options.weights !== "string" || options.weights === "") throw new Error(`${FN}: options.weights must be a path, got ${JSON.stringify(options.weights)}.`);
    path = options.weights;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (error) {
      throw new Error(`${FN}: cannot read options.weights ${path} (${error instanceof Error ? error.message : String(error)}).`);
    }
    sha256 = sha256Hex(bytes);
  } else {
    ({ path, bytes, sha256 } = await fidInceptionWeights(options));
  }
  const official = sha256.startsWith(FID_INCEPTION_SHA256_PREFIX);
  const network = FidInceptionV3.fromStateDict(readTorchStateDict(bytes, { source: path }));
  const inBatches = (images: tf.Tensor4D, run: (chunk: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D => {
    const n = images instanceof tf.Tensor && images.rank === 4 ? images.shape[0] : undefined;
    if (n === undefined || n <= batchSize) return run(images); // the network validates the input
    const parts: tf.Tensor2D[] = [];
    try {
      for (let start = 0; start < n; start += batchSize) {
        const chunk = tf.slice(images, [start, 0, 0, 0], [Math.min(batchSize, n - start), -1, -1, -1]);
        try {
          parts.push(run(chunk));
        } finally {
          chunk.dispose();
        }
      }
      return tf.concat(parts, 0);
    } finally {
      for (const p of parts) p.dispose();
    }
  };
  return {
    name: official ? FID_INCEPTION_NAME : `inception-v3-fid(sha256:${sha256.slice(0, 16)})`,
    dim: INCEPTION_FEATURE_DIM,
    weights: { path, sha256, official },
    network,
    features: (images) => inBatches(images, (chunk) => network.features(chunk)),
    logits: (images) => inBatches(images, (chunk) => network.probabilities(chunk)),
    featuresAndLogits: (images) => {
      // Both side by side in one tensor, so that the batching serves them too, then split.
      const both = inBatches(images, (chunk) =>
        tf.tidy(() => {
          const { features, probabilities } = network.featuresAndProbabilities(chunk);
          return tf.concat([features, probabilities], 1) as tf.Tensor2D;
        }),
      );
      try {
        const [features, logits] = tf.split(both, [INCEPTION_FEATURE_DIM, INCEPTION_CLASSES], 1) as [tf.Tensor2D, tf.Tensor2D];
        return { features, logits };
      } finally {
        both.dispose();
      }
    },
    dispose: () => network.dispose(),
  };
}
