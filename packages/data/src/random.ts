/** xoshiro128** (Blackman and Vigna) with its 128-bit state made from (seed, stream) without collisions. */
export function xoshiro128(seed: number, stream: number, fn: string): () => number {
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  if (!Number.isInteger(stream)) throw new Error(`${fn}: stream must be an integer, got ${stream}.`);
  // As in @dale/sde: each 32-bit half of seed and stream goes through a bijective mixer into its own state word, so
  // distinct (seed, stream) pairs give distinct states; a few discarded outputs decorrelate neighbours.
  let a = fmix32(lo32(seed) ^ 0x243f6a88);
  let b = fmix32(hi32(seed) ^ 0x85a308d3);
  let c = fmix32(lo32(stream) ^ 0x13198a2e);
  let d = fmix32(hi32(stream) ^ 0x03707344);
  if ((a | b | c | d) === 0) a = 1;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

/** murmur3's 32-bit finaliser, a bijection on 32-bit words. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const lo32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v))) | 0;
const hi32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v) >> 32n)) | 0;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Uniform integer in [0, n) from a 32-bit generator, without modulo bias (rejection sampling). */
export function below(next: () => number, n: number): number {
  const limit = 4294967296 - (4294967296 % n);
  for (;;) {
    const r = next();
    if (r < limit) return r % n;
  }
}
