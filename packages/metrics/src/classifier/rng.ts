import { fmix32, hi32, lo32, xoshiro128FromState } from "../random";

/**
 * A small seeded generator for the classifier's initial weights and batch order: xoshiro128** (Blackman and Vigna)
 * with its state made from (seed, stream) by murmur3's bijective finaliser, as `@dale/data` and `@dale/sde` do; the
 * core is the package's one xoshiro128** (../random.ts). Kept in this package so that `@dale/metrics` depends on
 * neither.
 */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number;
  /** Standard normal (Box-Muller; both values of each pair are used). */
  normal(): number;
  /** Uniform integer in [0, n), without modulo bias. */
  below(n: number): number;
}

/** A generator for `(seed, stream)`; distinct pairs give distinct states. */
export function createRng(seed: number, stream: number): Rng {
  const u32 = xoshiro128FromState(
    fmix32(lo32(seed) ^ 0x243f6a88),
    fmix32(hi32(seed) ^ 0x85a308d3),
    fmix32(lo32(stream) ^ 0x13198a2e),
    fmix32(hi32(stream) ^ 0x03707344),
  );
  let spare: number | null = null;
  const uniform = () => u32() / 4294967296;
  return {
    u32,
    uniform,
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      const u1 = (u32() + 1) / 4294967297; // (0, 1): log(u1) is finite
      const u2 = uniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
    below(n) {
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const r = u32();
        if (r < limit) return r % n;
      }
    },
  };
}

/** Fisher-Yates shuffle of `0 .. n - 1`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}
