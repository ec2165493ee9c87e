import { xoshiro128 } from "@dale/random";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Seeded standard-normal noise, generated on the host and uploaded once.
 *
 * tfjs' `tf.randomNormal(shape, 0, 1, "float32", seed)` is reproducible too, but on the cpu and wasm backends it runs
 * about 15x slower than this generator, and samplers draw one full-size tensor per step. Each `(seed, stream)` pair
 * names an independent sequence: xoshiro128** keyed by seed and stream (`@dale/random`), with Box-Muller pairs.
 *
 * @param shape output shape, e.g. `[batch, height, width, channels]`
 * @param seed any integer; the same seed and stream give the same tensor on every backend
 * @param stream a second integer (a step index, say) so that one seed can drive many independent draws
 *
 * @example
 * const z = randomNormal([4, 2], 42, 0); // same values every run
 */
export function randomNormal(shape: readonly number[], seed: number, stream = 0): tf.Tensor {
  return tf.tensor(normalArray(sizeOf(shape, "randomNormal"), seed, stream), [...shape], "float32");
}

/** Fills a new Float32Array of length `n` with seeded standard-normal draws (see {@link randomNormal}). */
export function normalArray(n: number, seed: number, stream = 0): Float32Array {
  const next = xoshiro128(seed, stream, "randomNormal");
  const out = new Float32Array(n);
  const TWO_PI = 2 * Math.PI;
  for (let i = 0; i < n; i += 2) {
    const u = (next() + 1) / 4294967297; // in (0, 1): log(u) is finite
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = TWO_PI * (next() / 4294967296);
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Fills a new Float64Array of length `n` with seeded uniform draws on [0, 1), from the same generator. */
export function uniformArray(n: number, seed: number, stream = 0): Float64Array {
  const next = xoshiro128(seed, stream, "uniformArray");
  return Float64Array.from({ length: n }, () => next() / 4294967296);
}

function sizeOf(shape: readonly number[], fn: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${fn}: shape must hold non-negative integers, got [${shape.join(", ")}].`);
    }
    n *= d;
  }
  return n;
}
