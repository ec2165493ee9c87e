import * as tf from "@tensorflow/tfjs-core";

/**
 * Seeded standard-normal noise, generated on the host and uploaded once.
 *
 * tfjs' `tf.randomNormal(shape, 0, 1, "float32", seed)` is reproducible too, but on the cpu and wasm backends it runs
 * about 15x slower than this generator, and samplers draw one full-size tensor per step. Each `(seed, stream)` pair
 * names an independent sequence: xoshiro128** whose state holds seed and stream, with Box-Muller pairs.
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

/** xoshiro128** (Blackman and Vigna), its 128-bit state made from (seed, stream) without collisions. */
function xoshiro128(seed: number, stream: number, fn: string): () => number {
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  if (!Number.isInteger(stream)) throw new Error(`${fn}: stream must be an integer, got ${stream}.`);
  // Each 32-bit half of seed and stream goes through a bijective mixer into its own state word, so distinct
  // (seed, stream) pairs (integers up to 2^53) give distinct states; a few discarded outputs decorrelate neighbours.
  let s0 = fmix32(lo32(seed) ^ 0x243f6a88);
  let s1 = fmix32(hi32(seed) ^ 0x85a308d3);
  let s2 = fmix32(lo32(stream) ^ 0x13198a2e);
  let s3 = fmix32(hi32(stream) ^ 0x03707344);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const next = () => {
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return r;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

/** murmur3's 32-bit finaliser: a bijection on 32-bit words that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const lo32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v))) | 0;
const hi32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v) >> 32n)) | 0;

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
