import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "@dale/io/node";
import { classifierFromBytes, type Classifier } from "./classifier";
import { trainClassifier, type TrainClassifierOptions } from "./train";

/**
 * Writes the classifier's file ({@link Classifier.toBytes}) atomically: a temporary file in the same folder, fsync,
 * rename over `path`, fsync the folder. A reader sees the old file or the new one, never a partial one.
 */
export async function saveClassifier(classifier: Classifier, path: string): Promise<void> {
  await writeFileAtomic(path, classifier.toBytes());
}

/** Reads a classifier file; a truncated or corrupted file is an error that names `path` and says what is wrong. */
export async function loadClassifier(path: string): Promise<Classifier> {
  return classifierFromBytes(new Uint8Array(await readFile(path)), `loadClassifier(${path})`);
}

/** Where {@link loadOrTrainClassifier} keeps its files unless told otherwise. */
export function defaultClassifierCacheDir(): string {
  return join(homedir(), ".cache", "dale", "classifiers");
}

/** Options of {@link loadOrTrainClassifier}. */
export interface LoadOrTrainOptions {
  /**
   * Names the cached file `<cacheDir>/<key>.safetensors`. Put everything that changes the network in it (dataset,
   * a version, the seed): e.g. "mnist-v1-seed0". Letters, digits, ".", "_" and "-" only.
   */
  key: string;
  /** Default `~/.cache/dale/classifiers` ({@link defaultClassifierCacheDir}). */
  cacheDir?: string;
  /** Loads the data and returns the training options; called only when no file is cached for `key`. */
  train: () => TrainClassifierOptions | Promise<TrainClassifierOptions>;
}

/**
 * The classifier cached under `key`, or, when there is none, one trained with `train()`'s options (seeded, so the
 * same on every run) and then cached. A corrupted cached file is an error naming it (delete the file to retrain).
 *
 * @example
 * const { classifier, cached } = await loadOrTrainClassifier({
 *   key: "mnist-v1-seed0",
 *   train: async () => ({
 *     train: await loadDataset("mnist", { split: "train" }),
 *     test: await loadDataset("mnist", { split: "test" }),
 *     dataset: "mnist",
 *     seed: 0,
 *   }),
 * });
 * const extractor = classifierFeatureExtractor(classifier); // name: "classifier:mnist (Dale CNN ..., test accuracy 99.0% ...)"
 */
export async function loadOrTrainClassifier(options: LoadOrTrainOptions): Promise<{ classifier: Classifier; path: string; cached: boolean }> {
  const fn = "loadOrTrainClassifier";
  if (typeof options.key !== "string" || !/^[A-Za-z0-9._-]+$/.test(options.key) || options.key.startsWith(".")) {
    throw new Error(`${fn}: key must be letters, digits, ".", "_" or "-" (not starting with "."), got ${JSON.stringify(options.key)}.`);
  }
  if (typeof options.train !== "function") throw new Error(`${fn}: train must be a function returning the training options.`);
  const path = join(options.cacheDir ?? defaultClassifierCacheDir(), `${options.key}.safetensors`);
  let bytes: Uint8Array | null = null;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (bytes !== null) {
    try {
      return { classifier: classifierFromBytes(bytes, `${fn}(${path})`), path, cached: true };
    } catch (err) {
      throw new Error(`${(err as Error).message} Delete the file to train the classifier again.`);
    }
  }
  const classifier = await trainClassifier(await options.train());
  try {
    await saveClassifier(classifier, path);
  } catch (err) {
    classifier.dispose();
    throw err;
  }
  return { classifier, path, cached: false };
}
