// The one seeded generator of Dale. @dale/sde (noise), @dale/data (shuffles, flips) and @dale/metrics (KID subsets,
// the classifier) all draw from it, so that a (seed, stream) pair means the same sequence everywhere and the
// generator is written and tested once.

/**
 * xoshiro128** (Blackman and Vigna, 2018) from the state words (s0, s1, s2, s3), as signed or unsigned 32-bit values;
 * an all-zero state becomes s0 = 1. Eight outputs are discarded before the first one is returned, which decorrelates
 * generators whose states were made from neighbouring seeds.
 *
 * @returns a function giving the next unsigned 32-bit output
 */
export function xoshiro128FromState(s0: number, s1: number, s2: number, s3: number): () => number {
  s0 |= 0;
  s1 |= 0;
  s2 |= 0;
  s3 |= 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const next = (): number => {
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

/**
 * xoshiro128** keyed by `(seed, stream)`: each 32-bit half of the seed and of the stream goes through murmur3's
 * bijective finaliser into its own state word, so distinct pairs (integers up to 2^53 in magnitude) give distinct
 * states. A stream names an independent sequence under one seed: a sampler step, a purpose, a worker.
 *
 * @param fn the public function asking, named in the error for a non-integer seed or stream
 * @returns a function giving the next unsigned 32-bit output
 *
 * @example
 * const next = xoshiro128(42, 0);
 * next(); // the same 32-bit integer on every run and platform
 */
export function xoshiro128(seed: number, stream: number, fn = "xoshiro128"): () => number {
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  if (!Number.isInteger(stream)) throw new Error(`${fn}: stream must be an integer, got ${stream}.`);
  return xoshiro128FromState(fmix32(lo32(seed) ^ 0x243f6a88), fmix32(hi32(seed) ^ 0x85a308d3), fmix32(lo32(stream) ^ 0x13198a2e), fmix32(hi32(stream) ^ 0x03707344));
}

/** murmur3's 32-bit finaliser: a bijection on 32-bit words that mixes every input bit into every output bit. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** The low 32-bit word of a safe integer (two's complement for negatives), as a signed 32-bit value. */
export const lo32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v))) | 0;
/** The high 32-bit word of a safe integer (two's complement for negatives), as a signed 32-bit value. */
export const hi32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v) >> 32n)) | 0;

/** A uniform integer in [0, n) from a 32-bit generator, without modulo bias (rejection sampling). */
export function below(next: () => number, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new Error(`below: n must be an integer in [1, 2^32], got ${n}.`);
  const limit = 4294967296 - (4294967296 % n);
  for (;;) {
    const r = next();
    if (r < limit) return r % n;
  }
}

/**
 * `m` distinct indices out of `0..n-1` by a partial Fisher-Yates shuffle: for i = 0..m-1, swap position i with
 * i + floor(u * (n - i) / 2^32), u the next 32-bit output. When m = n the identity is returned and nothing is drawn.
 * `scratch` (length at least n) is overwritten.
 */
export function sampleWithoutReplacement(next: () => number, n: number, m: number, scratch: Int32Array = new Int32Array(n)): Int32Array {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(m) || m < 0 || m > n) {
    throw new Error(`sampleWithoutReplacement: need integers 0 <= m <= n, got n = ${n}, m = ${m}.`);
  }
  if (scratch.length < n) throw new Error(`sampleWithoutReplacement: scratch has length ${scratch.length}, needs at least n = ${n}.`);
  for (let i = 0; i < n; i++) scratch[i] = i;
  if (m === n) return scratch.slice(0, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor((next() * (n - i)) / 4294967296);
    const v = scratch[i] as number;
    scratch[i] = scratch[j] as number;
    scratch[j] = v;
  }
  return scratch.slice(0, m);
}
