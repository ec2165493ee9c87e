import { describe, expect, it } from "vitest";
import { pixelSpread } from "../src/diversity";

describe("pixelSpread", () => {
  it("is 0 for identical images and the mean per-pixel sample standard deviation otherwise", () => {
    const same = new Float32Array([0.1, 0.5, 0.9, 0.1, 0.5, 0.9, 0.1, 0.5, 0.9]);
    expect(pixelSpread(same, 3)).toBe(0);
    // Two pixels, three images: pixel 0 takes 0, 1, 2 (sample std 1); pixel 1 takes 0, 0, 3 (mean 1, ss 6, std sqrt(3)).
    const images = new Float32Array([0, 0, 1, 0, 2, 3]);
    expect(pixelSpread(images, 3)).toBeCloseTo((1 + Math.sqrt(3)) / 2, 12);
  });

  it("rejects a count it cannot use", () => {
    expect(() => pixelSpread(new Float32Array(4), 1)).toThrow(/count must be an integer >= 2/);
    expect(() => pixelSpread(new Float32Array(5), 2)).toThrow(/not a multiple of count/);
  });
});
