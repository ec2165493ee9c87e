import { describe, expect, it } from "vitest";
import { below, fmix32, hi32, lo32, sampleWithoutReplacement, xoshiro128, xoshiro128FromState } from "./index";

// From tooling/random-reference/make_reference.py: Blackman and Vigna's C reference transliterated to Python integers.
const REF = {
  // The C reference from state {1, 2, 3, 4}, outputs 9 to 16 (its first, 11520 = rotl(2 * 5, 7) * 9, is discarded).
  fromState_1234: [3729100597, 4258142804, 337829053, 2142557243, 3576906021, 2006103318, 3870238204, 1001584594],
  keyed: {
    "0,0": [2238496981, 2894413649, 2690283964, 4176241819],
    "42,0": [3281262700, 3933034497, 1129520529, 473785507],
    "42,1": [3476827736, 2539612638, 2886135667, 2708788516],
    "-1,7": [2925785670, 920319589, 3967493526, 302907342],
    "1099511627779,8589934592": [423149115, 3743266136, 4007739792, 212932629],
    "25185,1718380912": [2682891438, 3434928709, 69251193, 2810586492],
  } as Record<string, number[]>,
  fmix32: { "0": 0, "1": 1364076727, "3735928559": 233162409, "4294967295": 2180083513 } as Record<string, number>,
};

const take = (next: () => number, n: number) => Array.from({ length: n }, () => next());

describe("xoshiro128**", () => {
  it("matches the C reference from state {1, 2, 3, 4} after its eight discarded outputs", () => {
    expect(take(xoshiro128FromState(1, 2, 3, 4), 8)).toEqual(REF.fromState_1234);
  });

  it("keyed by (seed, stream) matches the reference, negatives and values above 2^32 included", () => {
    for (const [key, want] of Object.entries(REF.keyed)) {
      const [seed, stream] = key.split(",").map(Number) as [number, number];
      expect(take(xoshiro128(seed, stream), 4), key).toEqual(want);
    }
  });

  it("fmix32 and the word split match the reference", () => {
    for (const [v, want] of Object.entries(REF.fmix32)) expect(fmix32(Number(v)) >>> 0).toBe(want);
    expect([lo32(2 ** 40 + 3), hi32(2 ** 40 + 3)]).toEqual([3, 256]);
    expect([lo32(-1), hi32(-1)]).toEqual([-1, -1]);
  });

  it("an all-zero state is replaced (the generator would emit zeros forever)", () => {
    expect(take(xoshiro128FromState(0, 0, 0, 0), 4)).toEqual(take(xoshiro128FromState(1, 0, 0, 0), 4));
    expect(take(xoshiro128FromState(0, 0, 0, 0), 4).some((v) => v !== 0)).toBe(true);
  });

  it("rejects a seed or stream that is not an integer, naming the caller", () => {
    expect(() => xoshiro128(0.5, 0, "batches")).toThrow("batches: seed must be an integer, got 0.5.");
    expect(() => xoshiro128(1, Number.NaN)).toThrow("xoshiro128: stream must be an integer, got NaN.");
  });

  it("outputs are uniform 32-bit words: mean and top-bit frequency over 200,000 draws", () => {
    const next = xoshiro128(7, 0);
    let sum = 0;
    let top = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const v = next();
      sum += v / 4294967296;
      top += v >>> 31;
    }
    // Means of U(0, 1) have sd 1 / sqrt(12 n) = 6.5e-4; the top bit is Bernoulli(1/2) with sd 1.1e-3: 5 sd bounds.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * 6.5e-4);
    expect(Math.abs(top / n - 0.5)).toBeLessThan(5 * 1.12e-3);
  });
});

describe("below and sampleWithoutReplacement", () => {
  it("below(n) is unbiased: rejection where 2^32 is not a multiple of n, exact counts on a crafted generator", () => {
    // n = 3: 2^32 mod 3 = 1, so the largest output (2^32 - 1) is rejected and the next one used.
    const outs = [4294967295, 5];
    const next = () => outs.shift() as number;
    expect(below(next, 3)).toBe(2);
    const g = xoshiro128(3, 0);
    const counts = [0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 70_000; i++) (counts[below(g, 7)] as number)++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(5 * Math.sqrt(70_000 * (1 / 7) * (6 / 7)));
    expect(() => below(g, 0)).toThrow(/n must be an integer in \[1, 2\^32\], got 0/);
  });

  it("draws m distinct indices, and the identity without drawing when m = n", () => {
    const g = xoshiro128(11, 2);
    const s = sampleWithoutReplacement(g, 100, 30);
    expect(new Set(s).size).toBe(30);
    for (const v of s) expect(v >= 0 && v < 100).toBe(true);
    let calls = 0;
    const counting = () => (calls++, 0);
    expect(Array.from(sampleWithoutReplacement(counting, 5, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(calls).toBe(0);
    // With u = 0 every swap is with itself: the first m indices.
    expect(Array.from(sampleWithoutReplacement(counting, 5, 2))).toEqual([0, 1]);
    expect(() => sampleWithoutReplacement(g, 3, 4)).toThrow(/0 <= m <= n, got n = 3, m = 4/);
  });
});
