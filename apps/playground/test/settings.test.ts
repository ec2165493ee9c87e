// The page's pure parts, in Node: the query string and the grid tiling.
import { describe, expect, it } from "vitest";
import { gridColumns, tileRgba } from "../src/grid";
import { DEFAULT_SETTINGS, GBM_SAMPLERS, parseSettings } from "../src/settings";

describe("parseSettings", () => {
  it("reads ?n=16&seed=0&nfe=20 and the optional sampler, backend and view", () => {
    expect(parseSettings("")).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("?n=9&seed=-3&nfe=35&sampler=dpmpp-2m-sde&backend=webgpu&view=denoised")).toEqual({
      n: 9,
      seed: -3,
      nfe: 35,
      sampler: "dpmpp-2m-sde",
      backend: "webgpu",
      view: "denoised",
    });
  });

  it("offers the samplers that serve GBM: the multiplicative reference samplers and the solvers, no additive one", () => {
    expect(GBM_SAMPLERS).toContain("heun");
    expect(GBM_SAMPLERS).toContain("dale-langevin");
    expect(GBM_SAMPLERS).not.toContain("euler-maruyama");
  });

  it("refuses bad values, naming the parameter and what it accepts", () => {
    expect(() => parseSettings("?n=0")).toThrow('?n= must be an integer from 1 to 64, got "0".');
    expect(() => parseSettings("?nfe=2.5")).toThrow('?nfe= must be an integer from 1 to 1000, got "2.5".');
    expect(() => parseSettings("?seed=")).toThrow(/\?seed= must be an integer/);
    expect(() => parseSettings("?sampler=euler-maruyama")).toThrow(/\?sampler= must be one of .*heun.*, got "euler-maruyama"\./);
    expect(() => parseSettings("?backend=tpu")).toThrow('?backend= must be one of webgpu, webgl, wasm, cpu, got "tpu".');
    expect(() => parseSettings("?view=y")).toThrow('?view= must be x or denoised, got "y".');
  });
});

describe("tileRgba", () => {
  it("tiles images row-major into a square grid, scaling [0, 1] to bytes; empty cells black, NaN red", () => {
    expect([1, 2, 4, 5, 16, 17].map(gridColumns)).toEqual([1, 2, 2, 3, 4, 5]);
    // Three 1 x 2 grey images in a 2-column grid: 2 rows, 4 x 2 pixels.
    const { data, width, height } = tileRgba([0, 1, 0.5, Number.NaN, 0.25, 0.75], [3, 1, 2, 1]);
    expect([width, height]).toEqual([4, 2]);
    const px = (x: number, y: number) => Array.from(data.slice((y * width + x) * 4, (y * width + x) * 4 + 4));
    expect(px(0, 0)).toEqual([0, 0, 0, 255]);
    expect(px(1, 0)).toEqual([255, 255, 255, 255]);
    expect(px(2, 0)).toEqual([128, 128, 128, 255]);
    expect(px(3, 0)).toEqual([255, 0, 0, 255]);
    expect(px(0, 1)).toEqual([64, 64, 64, 255]);
    expect(px(1, 1)).toEqual([191, 191, 191, 255]);
    expect(px(2, 1)).toEqual([0, 0, 0, 255]); // no fourth image
    // Colour images keep their channels.
    expect(Array.from(tileRgba([1, 0, 0.5], [1, 1, 1, 3]).data)).toEqual([255, 0, 128, 255]);
    expect(() => tileRgba([0, 1], [1, 1, 1, 2])).toThrow("tileRgba: images must have 1 or 3 channels, got 2.");
    expect(() => tileRgba([0], [1, 1, 2, 1])).toThrow("tileRgba: 1 values do not fill the shape [1, 1, 2, 1].");
  });
});
