import * as tf from "@tensorflow/tfjs-core";
import { createRng, permutation } from "./rng";

/**
 * Labelled images held on the host, NHWC row-major: `uint8` pixels in 0..255 or `float32` pixels in [0, 1].
 * `@dale/data`'s `Dataset` (from `loadDataset` or `loadBuiltinMnist`) has this shape and can be passed as is.
 */
export interface LabelledImages {
  /** `count * height * width * channels` pixels, NHWC. */
  images: Uint8Array | Float32Array;
  /** One class index (0, 1, ...) per image. */
  labels: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * A fixed split of `n` records into `trainCount` for training and the rest for testing, the same on every machine:
 * a seeded permutation of `0 .. n - 1` (xoshiro128**, Fisher-Yates) cut in two, each part sorted. Use it for a dataset
 * that ships only a test split (our KMNIST copy): train the classifier on one part, report its accuracy on the other.
 *
 * @example
 * const kmnist = await loadDataset("kmnist", { split: "test" }); // 10000 images
 * const { train, test } = splitFixed(kmnist.count, 8000);
 * const classifier = await trainClassifier({ train: takeImages(kmnist, train), test: takeImages(kmnist, test), dataset: "kmnist" });
 */
export function splitFixed(n: number, trainCount: number, seed = 0): { train: Int32Array; test: Int32Array } {
  const fn = "splitFixed";
  if (!Number.isInteger(n) || n < 1) throw new Error(`${fn}: n must be a positive integer, got ${n}.`);
  if (!Number.isInteger(trainCount) || trainCount < 0 || trainCount > n) {
    throw new Error(`${fn}: trainCount must be an integer in [0, ${n}], got ${trainCount}.`);
  }
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  const perm = permutation(n, createRng(seed, 0x5b117));
  return { train: perm.slice(0, trainCount).sort(), test: perm.slice(trainCount).sort() };
}

/** The records at `indices`, copied, in that order (for example one part of {@link splitFixed}). */
export function takeImages(data: LabelledImages, indices: ArrayLike<number>): LabelledImages {
  checkImages(data, "takeImages", "data");
  const size = data.height * data.width * data.channels;
  const images = data.images instanceof Uint8Array ? new Uint8Array(indices.length * size) : new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i] as number;
    if (!Number.isInteger(j) || j < 0 || j >= data.count) {
      throw new Error(`takeImages: indices[${i}] = ${j} is not a record index in [0, ${data.count}).`);
    }
    images.set(data.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = data.labels[j] as number;
  }
  return { images, labels, count: indices.length, height: data.height, width: data.width, channels: data.channels };
}

/** Checks the fields and sizes of `data`; errors name the function and the argument. Returns the largest label. */
export function checkImages(data: LabelledImages, fn: string, arg: string): number {
  if (data === null || typeof data !== "object") throw new Error(`${fn}: ${arg} must be labelled images ({ images, labels, count, height, width, channels }).`);
  for (const k of ["count", "height", "width", "channels"] as const) {
    const v = data[k];
    if (!Number.isInteger(v) || v < (k === "count" ? 0 : 1)) throw new Error(`${fn}: ${arg}.${k} must be a ${k === "count" ? "non-negative" : "positive"} integer, got ${String(v)}.`);
  }
  if (!(data.images instanceof Uint8Array || data.images instanceof Float32Array)) {
    throw new Error(`${fn}: ${arg}.images must be a Uint8Array (0..255) or a Float32Array ([0, 1]).`);
  }
  const expected = data.count * data.height * data.width * data.channels;
  if (data.images.length !== expected) {
    throw new Error(
      `${fn}: ${arg}.images has ${data.images.length} values, but count * height * width * channels = ` +
        `${data.count} * ${data.height} * ${data.width} * ${data.channels} = ${expected}.`,
    );
  }
  if (data.labels == null || data.labels.length !== data.count) {
    throw new Error(`${fn}: ${arg}.labels must hold one label per image (${data.count}), got ${data.labels?.length}.`);
  }
  let max = -1;
  for (let i = 0; i < data.count; i++) {
    const l = data.labels[i] as number;
    if (!Number.isInteger(l) || l < 0) throw new Error(`${fn}: ${arg}.labels[${i}] = ${l} is not a class index (a non-negative integer).`);
    if (l > max) max = l;
  }
  return max;
}

/** Float32 `[B, H, W, C]` in [0, 1] of the records `indices[begin .. end)` (or `begin .. end` without indices). */
export function imageBatch(data: LabelledImages, begin: number, end: number, indices?: ArrayLike<number>): tf.Tensor4D {
  const size = data.height * data.width * data.channels;
  const out = new Float32Array((end - begin) * size);
  const scale = data.images instanceof Uint8Array ? 1 / 255 : 1;
  for (let i = begin; i < end; i++) {
    const j = indices === undefined ? i : (indices[i] as number);
    const src = data.images.subarray(j * size, (j + 1) * size);
    const o = (i - begin) * size;
    for (let k = 0; k < size; k++) out[o + k] = (src[k] as number) * scale;
  }
  return tf.tensor4d(out, [end - begin, data.height, data.width, data.channels], "float32");
}

/** Per-channel mean and standard deviation of the pixels in [0, 1] (float64 sums), for the network's input scaling. */
export function channelStats(data: LabelledImages): { mean: number[]; std: number[] } {
  const c = data.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const scale = data.images instanceof Uint8Array ? 1 / 255 : 1;
  const px = data.images;
  for (let i = 0; i < px.length; i++) {
    const v = (px[i] as number) * scale;
    const ch = i % c;
    sum[ch] = (sum[ch] as number) + v;
    sq[ch] = (sq[ch] as number) + v * v;
  }
  const n = px.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(s / n - (mean[ch] as number) ** 2, 0)));
  // Round to float32 so that the values written to the file and those used in training are the same numbers.
  return { mean: mean.map(Math.fround), std: std.map((s) => Math.fround(Math.max(s, 1e-3))) };
}
