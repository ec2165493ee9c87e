// Which real images a benchmark dataset trains on and which it is evaluated against.
import { batches, type Dataset } from "@dale/data";
import { loadDataset } from "@dale/data/node";
import { KMNIST_TEST_SUBSET, loadTrainingData } from "@dale/training";
import type { BenchDataset } from "./plan";

/** Images and labels picked out of a Dataset, with a line saying where they came from. */
export interface ImageSet {
  dataset: Dataset;
  indices: Int32Array;
  description: string;
}

/**
 * The training images (the first `limit` of them, when given): the training split, except KMNIST, whose training split is absent from our copy: there the
 * first {@link KMNIST_TEST_SUBSET} test images train (the same ones dale-train uses) and the rest are held out.
 */
export async function trainImages(name: BenchDataset, dataDir: string | undefined, limit?: number): Promise<ImageSet & { note?: string }> {
  const { dataset, note } = await loadTrainingData(name, dataDir, limit);
  return {
    dataset,
    indices: Int32Array.from({ length: dataset.count }, (_, i) => i),
    description: `${name} ${dataset.split} images 0..${dataset.count - 1}`,
    ...(note !== undefined ? { note } : {}),
  };
}

/**
 * The seed of the measuring instrument: the held-out images and the classifier. It is not the run's `--seed`, so that
 * runs with different seeds (training or sampling) are measured against the same images in the same feature space,
 * and their spread is the models' alone.
 */
export const INSTRUMENT_SEED = 0;

/**
 * The real images the samples are compared with: `count` test images chosen by a seeded permutation (CIFAR-10's test
 * records are stored in class order, so the first ones would all be aeroplanes). For KMNIST only the test images after
 * the first {@link KMNIST_TEST_SUBSET} are eligible, since those trained the models.
 */
export async function evalImages(name: BenchDataset, count: number, seed: number, dataDir: string | undefined): Promise<ImageSet> {
  const dataset = await loadDataset(name, { split: "test", ...(dataDir !== undefined ? { dir: dataDir } : {}) });
  const offset = name === "kmnist" ? KMNIST_TEST_SUBSET : 0;
  const pool = dataset.count - offset;
  if (pool < 1) throw new Error(`${name}: no held-out test images (the test split has ${dataset.count}).`);
  const n = Math.min(count, pool);
  const perm = batches(pool, { batchSize: pool, seed: seed * 7 + 1, epochs: 1 }).next().value;
  if (!perm) throw new Error("evalImages: no permutation drawn.");
  const indices = Int32Array.from(perm.subarray(0, n), (i) => i + offset);
  const range = offset > 0 ? `test images ${offset}..${dataset.count - 1} (held out from training)` : "test images";
  return { dataset, indices, description: `${n} ${name} ${range}, seeded choice` };
}
