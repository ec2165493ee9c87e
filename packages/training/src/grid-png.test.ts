import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { gridPng } from "./grid-png";

describe("gridPng", () => {
  it("tiles images with a white border, and scales each pixel to a k x k block", () => {
    // Two 2x2 gray images: [0, 1; 0.5, 1] and all zeros.
    const data = Float32Array.from([0, 1, 0.5, 1, 0, 0, 0, 0]);
    const plain = PNG.sync.read(gridPng(data, [2, 2, 2, 1], { cols: 2, pad: 1 }));
    expect([plain.width, plain.height]).toEqual([2 * 3 + 1, 3 + 1]);
    const big = PNG.sync.read(gridPng(data, [2, 2, 2, 1], { cols: 2, pad: 1, scale: 3 }));
    expect([big.width, big.height]).toEqual([2 * (6 + 1) + 1, 6 + 2]);
    const at = (img: PNG, x: number, y: number) => img.data[(y * img.width + x) * 4] as number;
    // Pixel (row 1, col 0) of the first image is 0.5 -> 128: a 3x3 block at x 1..3, y 4..6 in the scaled grid.
    for (let y = 4; y <= 6; y++) for (let x = 1; x <= 3; x++) expect(at(big, x, y)).toBe(128);
    expect(at(big, 4, 1)).toBe(255); // (row 0, col 1) = 1
    expect(at(big, 1, 1)).toBe(0);
    expect(at(plain, 1, 2)).toBe(128);
    expect(() => gridPng(data, [2, 2, 2, 1], { scale: 0 })).toThrow(/gridPng: scale must be an integer in \[1, 64\], got 0/);
  });
});
