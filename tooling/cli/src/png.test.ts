import type { TopLevelSpec } from "vega-lite";
import { describe, expect, it } from "vitest";
import { renderPng } from "./index";

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
