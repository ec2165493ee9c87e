// The feature network of a benchmark: by default a classifier trained by Dale on the dataset's training images (cached
// in the run folder), never called FID-Inception in the results; with `--features inception`, the FID Inception-v3.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import { classifierFeatureExtractor, inceptionFeatureExtractor, loadClassifier, loadOrTrainClassifier, takeImages, type FeatureExtractor } from "@dale/metrics";
import type { RunContext } from "./context";
import { evalImages, INSTRUMENT_SEED, type ImageSet } from "./data";
import type { BenchDataset } from "./plan";

export type Embedder = FeatureExtractor;

/** The feature network of a dataset: the classifier (see `classifierFor`) or the Inception-v3, per `ctx.features`. */
export async function embedderFor(ctx: RunContext, dataset: BenchDataset, train: (() => Promise<ImageSet>) | null): Promise<Embedder> {
  if (ctx.features.kind === "classifier") return classifierFor(ctx, dataset, train);
  return inceptionFeatureExtractor({ weights: ctx.features.weights, batchSize: 50 });
}

/**
 * The dataset's classifier: loaded from `<out>/<dataset>/classifier.safetensors`, or trained there with
 * {@link INSTRUMENT_SEED} (not the run's seed: runs with different seeds measure with the same classifier) when `train` (which loads the training images, only if they are needed) is given: the prepare stage. Its test
 * accuracy is measured on the held-out evaluation images.
 */
export async function classifierFor(ctx: RunContext, dataset: BenchDataset, train: (() => Promise<ImageSet>) | null): Promise<Embedder> {
  const path = ctx.store.classifier(dataset);
  if (train === null) {
    if (!existsSync(path)) throw new Error(`no classifier for ${dataset} at ${path}; run \`dale-bench --stage prepare\` with the same options first.`);
    return classifierFeatureExtractor(await loadClassifier(path));
  }
  const key = path.slice(dirname(path).length + 1).replace(/\.safetensors$/, "");
  const { classifier, cached } = await loadOrTrainClassifier({
    key,
    cacheDir: dirname(path),
    train: async () => {
      const images = await train();
      const test = await evalImages(dataset, ctx.profile.evalImages, INSTRUMENT_SEED, ctx.dataDir);
      const task = ctx.progress.task(`train the ${dataset} classifier`, ctx.profile.classifier.steps);
      return {
        train: takeImages(images.dataset, images.indices),
        test: takeImages(test.dataset, test.indices),
        dataset,
        seed: INSTRUMENT_SEED,
        steps: ctx.profile.classifier.steps,
        batchSize: ctx.profile.classifier.batch,
        onProgress: (p) => {
          task.update(p.step);
          if (p.step === p.steps) task.done();
        },
      };
    },
  });
  const extractor = classifierFeatureExtractor(classifier);
  if (!cached) ctx.progress.log(`${dataset}: ${extractor.name}`);
  return extractor;
}

/** Features `[N, dim]` and class probabilities `[N, classes]` of images in [0, 1], copied to the host. */
export async function embed(embedder: Embedder, x: tf.Tensor4D): Promise<{ features: Float32Array; probabilities: Float32Array }> {
  // One forward pass where the extractor offers it (both of ours do): two would double the cost of the metrics.
  const both = embedder.featuresAndLogits?.(x);
  const f = both ? both.features : embedder.features(x);
  const p = both ? both.logits : embedder.logits ? embedder.logits(x) : null;
  try {
    return { features: (await f.data()) as Float32Array, probabilities: p ? ((await p.data()) as Float32Array) : new Float32Array(0) };
  } finally {
    f.dispose();
    p?.dispose();
  }
}
