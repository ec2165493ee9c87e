import * as tf from "@tensorflow/tfjs-core";
import { xoshiro128 } from "@dale/random";
import type { Dataset } from "./types";

/**
 * The dataset's images (all, or those at `indices`, in that order) as a float32 `[N, H, W, C]` tensor in [0, 1].
 */
export function toTensor(dataset: Dataset, options: { indices?: ArrayLike<number> } = {}): tf.Tensor4D {
  const fn = "toTensor";
  if (!dataset || !(dataset.images instanceof Uint8Array)) throw new Error(`${fn}: dataset must be a Dataset with uint8 images.`);
  const { count, height, width, channels } = dataset;
  const size = height * width * channels;
  if (dataset.images.length !== count * size) {
    throw new Error(`${fn}: dataset.images has ${dataset.images.length} bytes; expected count*height*width*channels = ${count * size}.`);
  }
  const indices = options.indices;
  const n = indices === undefined ? count : indices.length;
  const out = new Float32Array(n * size);
  const scale = 1 / 255;
  for (let k = 0; k < n; k++) {
    const i = indices === undefined ? k : indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= count) {
      throw new Error(`${fn}: options.indices[${k}] is ${i}; expected an integer in [0, ${count}).`);
    }
    const src = i * size;
    const dst = k * size;
    for (let p = 0; p < size; p++) out[dst + p] = dataset.images[src + p]! * scale;
  }
  return tf.tensor4d(out, [n, height, width, channels], "float32");
}

function checkFloat(fn: string, x: tf.Tensor, shift: number): void {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: x must be a tf.Tensor.`);
  if (x.dtype !== "float32") throw new Error(`${fn}: x must be float32, got ${x.dtype}.`);
  if (typeof shift !== "number" || !Number.isFinite(shift)) throw new Error(`${fn}: shift must be a finite number, got ${shift}.`);
}

/** Moves [0, 1] images to [shift, shift + 1] (the reference adds 1, so the GBM sees strictly positive [1, 2]). */
export function toPositive<T extends tf.Tensor>(x: T, shift = 1): T {
  checkFloat("toPositive", x, shift);
  return tf.tidy(() => tf.add(x, tf.scalar(shift, "float32"))) as T;
}

/** Inverse of {@link toPositive}: `clip(x, shift, shift + 1) - shift`, back to [0, 1]. */
export function fromPositive<T extends tf.Tensor>(x: T, shift = 1): T {
  checkFloat("fromPositive", x, shift);
  return tf.tidy(() => tf.sub(tf.clipByValue(x, shift, shift + 1), tf.scalar(shift, "float32"))) as T;
}

/** The seeded per-sample flip decisions that {@link randomFlipLeftRight} uses: 1 = flipped. */
export function flipMask(n: number, seed: number): Uint8Array {
  const next = xoshiro128(seed, 0x666c6970, "randomFlipLeftRight");
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = next() >>> 31;
  return mask;
}

/**
 * Mirrors each image of an `[N, H, W, C]` batch left-right with probability 1/2, decided per sample by `seed`
 * (the CIFAR-10 training augmentation). The same seed flips the same samples.
 */
export function randomFlipLeftRight(x: tf.Tensor4D, seed: number): tf.Tensor4D {
  const fn = "randomFlipLeftRight";
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: x must be a tf.Tensor.`);
  if (x.rank !== 4) throw new Error(`${fn}: x must have rank 4 [N, H, W, C], got shape [${x.shape.join(", ")}].`);
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  const n = x.shape[0];
  const mask = flipMask(n, seed);
  return tf.tidy(() => {
    const cond = tf.broadcastTo(tf.tensor4d(mask, [n, 1, 1, 1], "bool"), x.shape);
    return tf.where(cond, tf.reverse(x, 2), x) as tf.Tensor4D;
  });
}
