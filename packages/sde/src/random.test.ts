import { describe, expect, it } from "vitest";
import { normalArray, uniformArray } from "./index";

describe("seeded generator", () => {
  it("is reproducible and gives every (seed, stream) pair its own sequence", () => {
    expect(Array.from(normalArray(8, 3, 1))).toEqual(Array.from(normalArray(8, 3, 1)));
    const first = (seed: number, stream: number) => uniformArray(4, seed, stream).join(",");
    const seen = new Set<string>();
    // Neighbouring seeds and streams, seeds 2^32 apart, negative seeds, and swapped pairs: all distinct.
    const pairs: [number, number][] = [];
    for (let s = -3; s < 30; s++) for (let k = 0; k < 30; k++) pairs.push([s, k]);
    pairs.push([5 + 2 ** 32, 0], [2 ** 40, 7], [7, 2 ** 40]);
    for (const [s, k] of pairs) seen.add(first(s, k));
    expect(seen.size).toBe(pairs.length);
  });

  it("draws standard normals: mean 0 and variance 1 within 4 standard errors", () => {
    const n = 200_000;
    const z = normalArray(n, 12345, 0);
    let m = 0;
    for (const v of z) m += v;
    m /= n;
    let v2 = 0;
    for (const v of z) v2 += (v - m) ** 2;
    v2 /= n - 1;
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(v2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });
});
