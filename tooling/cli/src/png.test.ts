import type { TopLevelSpec } from "vega-lite";
import { describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import { renderPng, sideBySidePng } from "./index";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Width and height from the IHDR chunk. */
const size = (png: Buffer) => [png.readUInt32BE(16), png.readUInt32BE(20)];

const spec: TopLevelSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  width: 200,
  height: 100,
  data: { values: [1, 2, 3, 4].map((step) => ({ step, loss: 1 / step })) },
  mark: "line",
  encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative" } },
  config: { background: "white" },
};

describe("renderPng", () => {
  it("renders a Vega-Lite spec to a PNG, scale times its pixel size", async () => {
    const one = await renderPng(spec, 1);
    const two = await renderPng(spec);
    expect([...one.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect([...two.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const [w1, h1] = size(one) as [number, number];
    expect(w1).toBeGreaterThan(200); // the plot plus its axes
    expect(h1).toBeGreaterThan(100);
    expect(size(two)).toEqual([2 * w1, 2 * h1]);
  });

  it("reports a spec that Vega-Lite cannot compile as a rejected promise", async () => {
    await expect(renderPng({ mark: "no-such-mark" } as unknown as TopLevelSpec)).rejects.toBeInstanceOf(Error);
  });
});

describe("sideBySidePng", () => {
  /** A w x h PNG of one colour. */
  const solid = (w: number, h: number, rgb: [number, number, number]) => {
    const png = new PNG({ width: w, height: h });
    for (let i = 0; i < w * h; i++) png.data.set([...rgb, 255], 4 * i);
    return PNG.sync.write(png);
  };
  const pixel = (img: PNG, x: number, y: number) => [...img.data.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 3)];

  it("places each image at its scaled size, left to right, below its label", async () => {
    const out = await sideBySidePng(
      [
        { png: solid(4, 6, [255, 0, 0]), label: "GBM" },
        { png: solid(5, 3, [0, 0, 255]), label: "VP" },
      ],
      3,
    );
    const img = PNG.sync.read(out);
    const top = img.height - 18; // the taller panel fills the height below the label row
    expect(img.width).toBe(12 + 12 + 15); // 4 x 3, the gap, 5 x 3
    expect(top).toBeGreaterThan(10); // room for the labels
    expect(pixel(img, 6, top + 9)).toEqual([255, 0, 0]);
    expect(pixel(img, 24 + 7, top + 4)).toEqual([0, 0, 255]);
    expect(pixel(img, 24 + 7, top + 12)).toEqual([255, 255, 255]); // below the shorter panel: background
    expect(pixel(img, 18, top + 9)).toEqual([255, 255, 255]); // the gap
  });

  it("refuses bytes that are not a PNG, naming the panel", async () => {
    await expect(sideBySidePng([{ png: new Uint8Array(64), label: "VP" }])).rejects.toThrow(/panel 0 \(VP\) is not a PNG/);
    await expect(sideBySidePng([])).rejects.toThrow(/at least one panel/);
  });
});
