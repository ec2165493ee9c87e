import * as tf from "@tensorflow/tfjs-core";
import { batches, randomFlipLeftRight, toTensor, type Dataset } from "@dale/data";
import { loadBuiltinMnist, loadDataset } from "@dale/data/node";
import { toPixels } from "@dale/models";
import type { DatasetChoice, ProcessName, Transform } from "./config";

/** KMNIST's training images are missing from our copy: train on the first this many test images instead. */
export const KMNIST_TEST_SUBSET = 8000;

export interface TrainingData {
  dataset: Dataset;
  /** A line for the log and checkpoint.json when the data is not the usual training split. */
  note?: string;
}

/** Loads the training images of `name` (see {@link KMNIST_TEST_SUBSET} for KMNIST). */
export async function loadTrainingData(name: DatasetChoice, dataDir: string | undefined, limit?: number | null): Promise<TrainingData> {
  if (limit !== undefined && limit !== null && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`loadTrainingData: limit must be a positive integer or null, got ${String(limit)}.`);
  }
  const cap = (n: number) => (limit === undefined || limit === null ? n : Math.min(n, limit));
  if (name === "builtin-mnist") {
    const full = loadBuiltinMnist();
    const count = cap(full.count);
    const size = full.height * full.width * full.channels;
    return { dataset: count === full.count ? full : { ...full, count, images: full.images.subarray(0, count * size), labels: full.labels.subarray(0, count) } };
  }
  if (name === "kmnist") {
    const dataset = await loadDataset("kmnist", { split: "test", limit: cap(KMNIST_TEST_SUBSET), ...(dataDir ? { dir: dataDir } : {}) });
    return {
      dataset,
      note: `KMNIST has no training images in our copy: training on the first ${dataset.count} test images (so test-set metrics are not held out).`,
    };
  }
  const dataset = await loadDataset(name, { split: "train", ...(limit !== undefined && limit !== null ? { limit } : {}), ...(dataDir ? { dir: dataDir } : {}) });
  return limit !== undefined && limit !== null ? { dataset, note: `training on the first ${dataset.count} images of the ${name} training split (--train-images).` } : { dataset };
}

/** The pixel transform each process uses: GBM needs positive data ([1, 2]); VP and VE use [-1, 1]. */
export function transformFor(process: ProcessName): Transform {
  return process === "gbm" ? { kind: "positive", shift: 1 } : { kind: "symmetric" };
}

/** [0, 1] pixels -> the SDE's data space. */
export function forward(x: tf.Tensor, transform: Transform): tf.Tensor {
  return tf.tidy(() => (transform.kind === "positive" ? tf.add(x, transform.shift) : tf.sub(tf.mul(x, 2), 1)));
}

/** The SDE's data space -> [0, 1] pixels, clipped, NaN kept: `toPixels` of @dale/models (what `fromPretrained` samples with). */
export function inverse(x: tf.Tensor, transform: Transform): tf.Tensor {
  return toPixels(x, transform);
}

/**
 * The batch order, a pure function of (seed, step): each epoch is one seeded permutation (drawn by `batches` from
 * `@dale/data` with the seed `seed * 7919 + epoch`), cut into `floor(count / batch)` full batches. Resuming at any step
 * therefore needs only the step number; no generator state is carried.
 */
export class BatchOrder {
  readonly stepsPerEpoch: number;
  private cached: { epoch: number; perm: Int32Array } | null = null;

  constructor(
    readonly count: number,
    readonly batch: number,
    readonly seed: number,
  ) {
    if (batch > count) throw new Error(`--batch ${batch} is larger than the dataset (${count} images).`);
    this.stepsPerEpoch = Math.floor(count / batch);
  }

  /** Where step `step` (1-based) reads. */
  position(step: number): { epoch: number; batchInEpoch: number } {
    return { epoch: Math.floor((step - 1) / this.stepsPerEpoch), batchInEpoch: (step - 1) % this.stepsPerEpoch };
  }

  /** The dataset indices of step `step` (1-based). */
  indices(step: number): Int32Array {
    const { epoch, batchInEpoch } = this.position(step);
    if (this.cached?.epoch !== epoch) {
      const perm = batches(this.count, { batchSize: this.count, seed: this.seed * 7919 + epoch, epochs: 1 }).next().value;
      if (!perm) throw new Error("BatchOrder: batches() produced no permutation.");
      this.cached = { epoch, perm };
    }
    return this.cached.perm.slice(batchInEpoch * this.batch, (batchInEpoch + 1) * this.batch);
  }
}

/** The training batch of step `step` in the SDE's data space; CIFAR-10 gets random left-right flips. */
export function trainingBatch(data: Dataset, order: BatchOrder, step: number, transform: Transform, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    let x = toTensor(data, { indices: order.indices(step) });
    if (data.name === "cifar10") x = randomFlipLeftRight(x, seed * 1_000_033 + step);
    return forward(x, transform) as tf.Tensor4D;
  });
}
