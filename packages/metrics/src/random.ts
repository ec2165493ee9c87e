import { fmix32, hi32, lo32, xoshiro128FromState } from "@dale/random";

/**
 * The small seeded generator behind metric subsampling (KID subsets): xoshiro128** (Blackman and Vigna 2018), its
 * 128-bit state made from the seed's two 32-bit halves with murmur3's finaliser (its own keying; the generator is
 * `@dale/random`'s), eight outputs discarded.
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

export { sampleWithoutReplacement } from "@dale/random";
