import { PNG } from "pngjs";

/**
 * Tiles `[N, H, W, C]` images with values in [0, 1] (C = 1 or 3) into one RGB PNG: `cols` images per row (default
 * ceil(sqrt(N))), separated by a `pad`-pixel white border.
 */
export function gridPng(data: Float32Array, shape: readonly [number, number, number, number], options: { cols?: number; pad?: number } = {}): Buffer {
  const [n, h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new Error(`gridPng: images must have 1 or 3 channels, got ${c}.`);
  if (data.length !== n * h * w * c) throw new Error(`gridPng: data has ${data.length} values, shape [${shape.join(", ")}] needs ${n * h * w * c}.`);
  const cols = options.cols ?? Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const pad = options.pad ?? 2;
  const width = cols * (w + pad) + pad;
  const height = rows * (h + pad) + pad;
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.alloc(width * height * 4, 255);
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
  for (let k = 0; k < n; k++) {
    const ox = pad + (k % cols) * (w + pad);
    const oy = pad + Math.floor(k / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((k * h + y) * w + x) * c;
        const dst = ((oy + y) * width + ox + x) * 4;
        for (let ch = 0; ch < 3; ch++) png.data[dst + ch] = byte(data[src + (c === 1 ? 0 : ch)] as number);
      }
    }
  }
  return PNG.sync.write(png, { colorType: 2 });
}
