import { describe, expect, it } from "vitest";
import { float16ToFloat32, float32ToFloat16 } from "./float16";

describe("float16", () => {
  it("rounds float32 to binary16 correctly", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65519, 0x7bff], // below the halfway point to 65536
      [65520, 0x7c00], // halfway: ties to even rounds up to Infinity
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [1e-8, 0x0000],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway to it: ties to even gives 0
      [1.5 * 2 ** -25, 0x0001],
      [2 ** -14, 0x0400], // smallest normal
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [1 + 2 ** -11, 0x3c00], // tie, even mantissa stays
      [1 + 3 * 2 ** -11, 0x3c02], // tie, odd mantissa rounds up
    ];
    for (const [value, bits] of cases) expect([value, float32ToFloat16(value)]).toEqual([value, bits]);
    const nan = float32ToFloat16(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
    expect(float16ToFloat32(nan)).toBeNaN();
  });

  it("decodes binary16 exactly and round-trips every finite half", () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    const bad: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) continue; // NaNs
      if (float32ToFloat16(float16ToFloat32(bits)) !== bits) bad.push(bits);
    }
    expect(bad).toEqual([]);
  });
});
