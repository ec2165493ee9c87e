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

/**
 * Adds a caption under a PNG image (drawn by resvg with the system's DejaVu Sans, on white): an SVG that embeds the
 * image as a data URI at its own pixel size, with crisp edges, and the text below it, wrapped at word boundaries to
 * the image's width.
 * @example await writeFile("grid.png", await captionPng(gridBytes, "mnist-gbm, step 2600: heun, NFE 35, seed 0"));
 */
export async function captionPng(png: Uint8Array, caption: string): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const size = 12;
  const line = Math.round(size * 1.5);
  const perLine = Math.max(8, Math.floor((width - 8) / (size * 0.62)));
  const lines: string[] = [];
  for (const word of caption.split(/\s+/).filter((w) => w !== "")) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + word.length <= perLine) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  const escape = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const href = `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
  const text = lines.map((l, i) => `<text x="4" y="${height + line * (i + 1) - 4}" font-family="DejaVu Sans" font-size="${size}" fill="#222">${escape(l)}</text>`).join("");
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + line * lines.length + 4}">` +
    `<image href="${href}" x="0" y="0" width="${width}" height="${height}" image-rendering="optimizeSpeed"/>${text}</svg>`;
  const resvg = new Resvg(svg, { background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } });
  return resvg.render().asPng();
}

/**
 * Lays PNG images side by side on white, each with its label above it (drawn by resvg with the system's DejaVu Sans),
 * at their own pixel size times `scale` with crisp (nearest-neighbour) edges: e.g. a GBM grid beside a VP grid.
 * @example await writeFile("mnist.png", await sideBySidePng([{ png: gbm, label: "GBM" }, { png: vp, label: "VP" }], 2));
 */
export async function sideBySidePng(panels: readonly { png: Uint8Array; label: string }[], scale = 1): Promise<Buffer> {
  if (panels.length === 0) throw new Error("sideBySidePng: give at least one panel.");
  if (!(Number.isInteger(scale) && scale >= 1)) throw new Error(`sideBySidePng: scale must be a positive integer, got ${scale}.`);
  const { Resvg } = await import("@resvg/resvg-js");
  const size = 14;
  const top = Math.round(size * 1.6);
  const gap = 12;
  const escape = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  let x = 0;
  let height = 0;
  const parts: string[] = [];
  for (const [i, { png, label }] of panels.entries()) {
    if (png.byteLength < 24 || png[1] !== 0x50 || png[2] !== 0x4e || png[3] !== 0x47) throw new Error(`sideBySidePng: panel ${i} (${label}) is not a PNG.`);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const w = view.getUint32(16) * scale;
    const h = view.getUint32(20) * scale;
    const href = `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
    parts.push(
      `<text x="${x + 2}" y="${top - 6}" font-family="DejaVu Sans" font-size="${size}" fill="#222">${escape(label)}</text>`,
      `<image href="${href}" x="${x}" y="${top}" width="${w}" height="${h}" image-rendering="optimizeSpeed"/>`,
    );
    x += w + gap;
    height = Math.max(height, h);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${x - gap}" height="${top + height}">${parts.join("")}</svg>`;
  const resvg = new Resvg(svg, { background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } });
  return resvg.render().asPng();
}
