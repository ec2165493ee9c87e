import * as tf from "@tensorflow/tfjs-core";
import {
  DEFAULT_FEATURE_DIM,
  DEFAULT_WIDTHS,
  checkConfig,
  forward,
  initialWeights,
  makeClassifier,
  type Classifier,
  type ClassifierConfig,
  type ClassifierInfo,
} from "./classifier";
import { channelStats, checkImages, imageBatch, type LabelledImages } from "./data";
import { createRng, permutation } from "./rng";

/** Progress of {@link trainClassifier}, reported every `progressEvery` steps and after the last one. */
export interface TrainProgress {
  /** Steps done so far. */
  step: number;
  steps: number;
  /** Epochs done so far (fractional). */
  epoch: number;
  /** Mean cross-entropy over the steps since the last report. */
  loss: number;
  /** Seconds since training started. */
  seconds: number;
}

/** Options of {@link trainClassifier}. */
export interface TrainClassifierOptions {
  /** Training images with labels (`@dale/data`'s `Dataset` fits). */
  train: LabelledImages;
  /** Held-out images; the accuracy on them is stored with the weights and shown in feature names. */
  test?: LabelledImages;
  /** What the data is, e.g. "mnist" or "kmnist[8000 of test]"; stored with the weights and shown in feature names. */
  dataset: string;
  /** Number of classes. Default: the largest training label + 1. */
  classes?: number;
  /** Convolution channels per level. Default [32, 64, 128]. */
  widths?: number[];
  /** Length of the feature layer. Default 128. */
  featureDim?: number;
  /** Seed of the initial weights and of the batch order. Default 0. */
  seed?: number;
  /** Passes over the training images (each a fresh seeded shuffle, the last partial batch dropped). Default 1; give this or `steps`. */
  epochs?: number;
  /** Optimiser steps, instead of `epochs`. */
  steps?: number;
  /** Images per step. Default 64. */
  batchSize?: number;
  /** Adam's learning rate (constant). Default 1e-3. */
  learningRate?: number;
  /** Called every `progressEvery` steps (default 50) and after the last step. */
  onProgress?: (progress: TrainProgress) => void;
  progressEvery?: number;
  /** Stops training between steps; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Trains a small CNN classifier (see {@link forward}: 3x3 convolutions with ReLU and 2x2 average pools, a ReLU
 * feature layer on the flattened map and a linear head) with softmax cross-entropy and Adam (`@dale/backend`'s),
 * then measures its accuracy on `test`.
 *
 * Deterministic: the initial weights and the batch order come from `seed` alone (xoshiro128**), so the same seed, data,
 * options and tfjs backend give byte-identical weights ({@link Classifier.toBytes}). Training imports `@dale/backend`
 * on first use, which registers tfjs' gradients and Dale's fast wasm convolution-gradient kernels.
 *
 * @example
 * const train = await loadDataset("mnist", { split: "train" });
 * const test = await loadDataset("mnist", { split: "test" });
 * const classifier = await trainClassifier({ train, test, dataset: "mnist", seed: 0, epochs: 2 }); // 16 min on a busy core
 * console.log(classifier.info.testAccuracy); // 0.9892
 */
export async function trainClassifier(options: TrainClassifierOptions): Promise<Classifier> {
  const fn = "trainClassifier";
  const { train, test } = options;
  const maxLabel = checkImages(train, fn, "train");
  if (typeof options.dataset !== "string" || options.dataset === "") throw new Error(`${fn}: dataset must name the data (e.g. "mnist").`);
  const classes = options.classes ?? maxLabel + 1;
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`${fn}: classes must be an integer >= 2, got ${classes}.`);
  if (maxLabel >= classes) throw new Error(`${fn}: train.labels has class ${maxLabel}, but classes is ${classes}.`);
  if (test !== undefined) {
    const maxTest = checkImages(test, fn, "test");
    if (test.height !== train.height || test.width !== train.width || test.channels !== train.channels) {
      throw new Error(`${fn}: test holds ${test.height}x${test.width}x${test.channels} images, train ${train.height}x${train.width}x${train.channels}.`);
    }
    if (maxTest >= classes) throw new Error(`${fn}: test.labels has class ${maxTest}, but classes is ${classes}.`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}.`);
  if (train.count < batchSize) throw new Error(`${fn}: train holds ${train.count} images, fewer than one batch of ${batchSize}.`);
  const learningRate = options.learningRate ?? 1e-3;
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new Error(`${fn}: learningRate must be positive, got ${learningRate}.`);
  const progressEvery = options.progressEvery ?? 50;
  if (!Number.isInteger(progressEvery) || progressEvery < 1) throw new Error(`${fn}: progressEvery must be a positive integer, got ${progressEvery}.`);
  const stepsPerEpoch = Math.floor(train.count / batchSize);
  let steps: number;
  if (options.steps !== undefined) {
    if (options.epochs !== undefined) throw new Error(`${fn}: give epochs or steps, not both.`);
    steps = options.steps;
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`${fn}: steps must be a positive integer, got ${steps}.`);
  } else {
    const epochs = options.epochs ?? 1;
    if (!(epochs > 0) || !Number.isFinite(epochs)) throw new Error(`${fn}: epochs must be positive, got ${epochs}.`);
    steps = Math.max(1, Math.round(epochs * stepsPerEpoch));
  }
  const config: ClassifierConfig = {
    imageSize: [train.height, train.width],
    channels: train.channels,
    classes,
    widths: [...(options.widths ?? DEFAULT_WIDTHS)],
    featureDim: options.featureDim ?? DEFAULT_FEATURE_DIM,
    ...channelStats(train),
  };
  checkConfig(config, fn);
  const signal = options.signal;
  const aborted = () => signal?.reason ?? new Error(`${fn}: aborted.`);
  if (signal?.aborted) throw aborted();

  // Loaded here, not at the top, so that importing @dale/metrics for FID alone does not load tfjs' gradients.
  const { adam } = await import("@dale/backend");
  if (signal?.aborted) throw aborted();
  const vars: Record<string, tf.Variable> = {};
  for (const [name, t] of initialWeights(config, seed)) vars[name] = tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape, "float32"), true));
  const varList = Object.values(vars);
  const optimizer = adam(learningRate);
  const order = createRng(seed, 2);
  const labels = Int32Array.from(train.labels);
  let perm = permutation(train.count, order);
  let pos = 0;
  let lossSum: tf.Scalar = tf.scalar(0);
  let lastReport = 0;
  const start = performance.now();
  let ok = false;
  try {
    for (let step = 1; step <= steps; step++) {
      if (signal?.aborted) throw aborted();
      if (pos + batchSize > train.count) {
        perm = permutation(train.count, order);
        pos = 0;
      }
      const batch = perm.subarray(pos, pos + batchSize);
      pos += batchSize;
      const loss = tf.tidy(() => {
        const x = imageBatch(train, 0, batchSize, batch);
        const y = tf.oneHot(tf.tensor1d(Int32Array.from(batch, (i) => labels[i] as number), "int32"), classes);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(vars, config, x).logits) as tf.Scalar, true, varList) as tf.Scalar;
      });
      const next = tf.add(lossSum, loss) as tf.Scalar;
      tf.dispose([lossSum, loss]);
      lossSum = next;
      if (step % progressEvery === 0 || step === steps) {
        const mean = (await lossSum.data())[0] as number / (step - lastReport);
        lossSum.dispose();
        lossSum = tf.scalar(0);
        lastReport = step;
        options.onProgress?.({ step, steps, epoch: step / stepsPerEpoch, loss: mean, seconds: (performance.now() - start) / 1000 });
        await new Promise((resolve) => setImmediate(resolve)); // lets an abort (or a UI) in between steps
      }
    }
    ok = true;
  } finally {
    lossSum.dispose();
    optimizer.dispose();
    if (!ok) tf.dispose(varList);
  }
  const info: ClassifierInfo = { dataset: options.dataset, seed, steps, batchSize, learningRate, trainCount: train.count, testCount: 0, testAccuracy: null };
  if (test === undefined || test.count === 0) return makeClassifier(config, info, vars);
  try {
    const { accuracy } = makeClassifier(config, info, vars).evaluate(test);
    return makeClassifier(config, { ...info, testCount: test.count, testAccuracy: accuracy }, vars);
  } catch (err) {
    tf.dispose(varList);
    throw err;
  }
}
