import { below, xoshiro128 } from "@dale/random";

/**
 * A small seeded generator for the classifier's initial weights and batch order: `@dale/random`'s xoshiro128** keyed
 * by (seed, stream), as `@dale/data` and `@dale/sde` draw theirs.
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
  const u32 = xoshiro128(seed, stream, "createRng");
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
    below: (n) => below(u32, n),
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
