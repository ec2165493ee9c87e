/** xoshiro128** (Blackman and Vigna) with its 128-bit state expanded from (seed, stream) by splitmix32. */
export function xoshiro128(seed: number, stream: number, fn: string): () => number {
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}.`);
  let sm = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream | 0, 0x85ebca6b) ^ 0x5bd1e995) | 0;
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
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
}

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
