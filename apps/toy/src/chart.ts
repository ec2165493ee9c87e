import type { TopLevelSpec } from "vega-lite";
import type { Histogram } from "./stats";

/** One facet of the figure: a sampler at one number of steps, with its histogram of log X. */
export interface ChartPanel {
  sampler: string;
  steps: number;
  nfe: number;
  nonPositive: number;
  histogram: Histogram;
}

/**
 * Fonts: resvg takes the first family of the list that is installed, so the figure has text on Linux (DejaVu,
 * Liberation), macOS and Windows (Helvetica, Arial) alike.
 */
export const CHART_FONT = "Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif";

/** Bin edges of a histogram, paired with the densities, as chart rows. */
function histogramRows(h: Histogram): { x0: number; x1: number; density: number }[] {
  const width = (h.hi - h.lo) / h.bins;
  return h.density.map((density, i) => ({ x0: h.lo + i * width, x1: h.lo + (i + 1) * width, density }));
}

/**
 * A Vega-Lite spec of the figure: one facet per sampler (rows) and number of steps (columns), each with the sampler's
 * histogram of log X as bars and the data's histogram overlaid as a step line, on shared axes. Histograms are binned beforehand (every
 * facet shares the data's bins), so the spec stays small whatever the sample size.
 */
export function histogramSpec(
  data: Histogram,
  panels: readonly ChartPanel[],
  options: { title?: string; subtitle?: string } = {},
): TopLevelSpec {
  const stepsOrder = [...new Set(panels.map((p) => p.steps))];
  const samplerOrder = [...new Set(panels.map((p) => p.sampler))];
  const dataRows = histogramRows(data);
  const values: Record<string, unknown>[] = [];
  for (const p of panels) {
    const facet = { sampler: p.sampler, steps: p.steps };
    for (const r of histogramRows(p.histogram)) values.push({ ...facet, layer: "bars", source: "sampler", ...r });
    // The data's histogram as a step line: each bin's left edge, plus the last right edge to close it.
    for (const r of dataRows) values.push({ ...facet, layer: "line", source: "data", x: r.x0, density: r.density });
    const last = dataRows[dataRows.length - 1];
    if (last) values.push({ ...facet, layer: "line", source: "data", x: last.x1, density: last.density });
    const outside = p.histogram.below + p.histogram.above;
    // Short lines: without a canvas, Vega estimates text widths generously, and long labels would widen the layout.
    const text = [`NFE ${p.nfe}`, `non-positive ${p.nonPositive}`, ...(outside > 0 ? [`off-axis ${outside}`] : [])];
    values.push({ ...facet, layer: "label", text });
  }
  const x = { title: "log x", scale: { domain: [data.lo, data.hi], nice: false } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: options.title ?? "log X at t = 0: samplers (bars) against the data (line)",
      ...(options.subtitle ? { subtitle: options.subtitle } : {}),
      anchor: "start",
    },
    data: { values },
    facet: {
      row: { field: "sampler", type: "nominal", sort: samplerOrder, title: null },
      column: { field: "steps", type: "ordinal", sort: stepsOrder, title: "steps" },
    },
    spec: {
      width: 220,
      height: 140,
      layer: [
        {
          transform: [{ filter: "datum.layer === 'bars'" }],
          mark: { type: "rect", stroke: null },
          encoding: {
            x: { field: "x0", type: "quantitative", ...x },
            x2: { field: "x1" },
            y: { field: "density", type: "quantitative", title: "density" },
            y2: { datum: 0 },
            color: { field: "source", type: "nominal", title: null, scale: { domain: ["sampler", "data"], range: ["#4c78a8", "#e45756"] } },
          },
        },
        {
          transform: [{ filter: "datum.layer === 'line'" }],
          mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
          encoding: {
            x: { field: "x", type: "quantitative", ...x },
            y: { field: "density", type: "quantitative" },
            color: { field: "source", type: "nominal" },
          },
        },
        {
          transform: [{ filter: "datum.layer === 'label'" }],
          mark: { type: "text", align: "left", baseline: "top", x: 4, y: 4, fontSize: 10, color: "#333" },
          encoding: { text: { field: "text", type: "nominal" } },
        },
      ],
    },
    config: { font: CHART_FONT, background: "white" },
  };
}
