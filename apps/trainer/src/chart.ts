import type { TopLevelSpec } from "vega-lite";

/** One row of loss.csv. */
export interface LossRow {
  step: number;
  loss: number;
}

/** The loss curve: per-step loss (thin) and its moving average over `window` steps (thick), log-scaled y. */
export function lossSpec(rows: readonly LossRow[], options: { title: string; window?: number }): TopLevelSpec {
  const window = options.window ?? Math.max(1, Math.min(100, Math.floor(rows.length / 20)));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: options.title,
    width: 640,
    height: 320,
    data: { values: rows.map((r) => ({ step: r.step, loss: r.loss })) },
    transform: [{ window: [{ op: "mean", field: "loss", as: "smoothed" }], frame: [-window + 1, 0], sort: [{ field: "step" }] }],
    layer: [
      { mark: { type: "line", opacity: 0.3, color: "#4c78a8" }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative", scale: { type: "log" }, title: "loss" } } },
      { mark: { type: "line", strokeWidth: 2, color: "#e45756" }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "smoothed", type: "quantitative", scale: { type: "log" } } } },
    ],
    config: { font: "DejaVu Sans, Liberation Sans, Arial, sans-serif", background: "white" },
  };
}
