/**
 * The small seeded generator behind metric subsampling (KID subsets): xoshiro128** (Blackman and Vigna 2018), its
 * 128-bit state made from the seed's two 32-bit halves with murmur3's finaliser, eight outputs discarded.
 * tooling/metrics-reference/make_reference.py implements the same generator, so Python draws the same subsets.
 *
 * @param seed an integer with |seed| <= 2^53
 * @returns a function giving the next unsigned 32-bit output
 */
export function xoshiro128ss(seed: number, fn: string): () => number {
  if (!Number.isSafeInteger(seed)) throw new Error(`${fn}: seed must be a safe integer, got ${seed}.`);
  const lo = lo32(seed);
  const hi = hi32(seed);
  return xoshiro128FromState(fmix32(lo ^ 0x9e3779b9), fmix32(hi ^ 0x243f6a88), fmix32(lo ^ 0xb7e15162), fmix32(hi ^ 0x85a308d3));
}

/**
 * xoshiro128** from the state words (s0, s1, s2, s3) (an all-zero state becomes s0 = 1), eight outputs discarded:
 * the core that {@link xoshiro128ss} and the classifier's generator seed in their own ways.
 * @returns a function giving the next unsigned 32-bit output
 */
export function xoshiro128FromState(s0: number, s1: number, s2: number, s3: number): () => number {
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

/** murmur3's 32-bit finaliser, a bijection on 32-bit words. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** The low and high 32-bit words of a safe integer (two's complement for negatives), as signed 32-bit values. */
export const lo32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v))) | 0;
export const hi32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v) >> 32n)) | 0;

/**
 * `m` distinct indices out of `0..n-1` by a partial Fisher-Yates shuffle: for i = 0..m-1, swap position i with
 * i + floor(u * (n - i) / 2^32), u the next 32-bit output. When m = n the identity is returned and nothing is drawn.
 * `scratch` (length n) is overwritten.
 */
export function sampleWithoutReplacement(next: () => number, n: number, m: number, scratch: Int32Array): Int32Array {
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
