// Vega-Lite spec -> SVG (Vega's headless view) -> PNG (resvg): the figures of the trainer (loss.png), the toy
// (toy-histograms.png) and the benchmark (fid-vs-nfe.png).
import type { TopLevelSpec } from "vega-lite";

/**
 * Renders a Vega-Lite spec to PNG bytes, `scale` times the spec's pixel size, on white, with the system's fonts
 * (resvg takes the first installed family of the spec's `config.font`, else DejaVu Sans).
 *
 * Every library is imported on the first call, not when this module loads: commands that only parse options do not
 * pay for Vega, and resvg is a native module. A bundle for the GPU machine (`../shared/gpu/pack.sh ...
 * --external:@resvg/resvg-js`) carries no native modules, so there the promise rejects and the caller skips the plot.
 * @example await writeFile("loss.png", await renderPng(spec));
 */
export async function renderPng(spec: TopLevelSpec, scale = 2): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}
