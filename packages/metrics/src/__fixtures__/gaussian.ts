// Seeded Gaussian feature rows for tests: an LCG and Box-Muller, so that a test's data is the same on every machine.

/** `rows x dim` row-major float64 values, dimension d drawn as N(shift[d], scale[d]^2). */
export function gaussian(rows: number, dim: number, seed: number, scale: number[], shift: number[]): Float64Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float64Array(rows * dim);
  for (let i = 0; i < out.length; i++) {
    const z = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    out[i] = shift[i % dim]! + scale[i % dim]! * z;
  }
  return out;
}
