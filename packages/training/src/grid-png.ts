import { PNG } from "pngjs";

/**
 * Tiles `[N, H, W, C]` images with values in [0, 1] (C = 1 or 3) into one RGB PNG: `cols` images per row (default
 * ceil(sqrt(N))), separated by a `pad`-pixel white border, each pixel drawn as a `scale` x `scale` block (nearest
 * neighbour; default 1).
 */
export function gridPng(data: Float32Array, shape: readonly [number, number, number, number], options: { cols?: number; pad?: number; scale?: number } = {}): Buffer {
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) throw new Error(`gridPng: scale must be an integer in [1, 64], got ${String(options.scale)}.`);
  if (scale > 1) return gridPng(upscale(data, shape, scale), [shape[0], shape[1] * scale, shape[2] * scale, shape[3]], { ...options, scale: 1 });
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

/** Each pixel of `[N, H, W, C]` images repeated into a `k` x `k` block. */
function upscale(data: Float32Array, shape: readonly [number, number, number, number], k: number): Float32Array {
  const [n, h, w, c] = shape;
  if (data.length !== n * h * w * c) throw new Error(`gridPng: data has ${data.length} values, shape [${shape.join(", ")}] needs ${n * h * w * c}.`);
  const H = h * k;
  const W = w * k;
  const out = new Float32Array(n * H * W * c);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < H; y++) {
      const sy = Math.floor(y / k);
      for (let x = 0; x < W; x++) {
        const src = ((i * h + sy) * w + Math.floor(x / k)) * c;
        const dst = ((i * H + y) * W + x) * c;
        for (let ch = 0; ch < c; ch++) out[dst + ch] = data[src + ch] as number;
      }
    }
  }
  return out;
}
