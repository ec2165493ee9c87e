// Images [n, height, width, channels] in [0, 1] tiled into one RGBA grid, as a canvas' ImageData wants them.

/** Columns of the grid for n images: the smallest square that holds them. */
export function gridColumns(n: number): number {
  return Math.ceil(Math.sqrt(n));
}

/**
 * Tiles `n` images (row-major `[n, height, width, channels]` floats in [0, 1], channels 1 or 3) into RGBA bytes of a
 * grid `cols` images wide; empty cells and NaN pixels are black (NaN shows as red so that it is visible).
 */
export function tileRgba(values: ArrayLike<number>, shape: readonly [number, number, number, number], cols = gridColumns(shape[0])): { data: Uint8ClampedArray<ArrayBuffer>; width: number; height: number } {
  const [n, h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new Error(`tileRgba: images must have 1 or 3 channels, got ${c}.`);
  if (values.length !== n * h * w * c) throw new Error(`tileRgba: ${values.length} values do not fill the shape [${shape.join(", ")}].`);
  const rows = Math.ceil(n / cols);
  const width = cols * w;
  const height = rows * h;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * w;
    const oy = Math.floor(k / cols) * h;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((k * h + y) * w + x) * c;
        const dst = ((oy + y) * width + ox + x) * 4;
        for (let ch = 0; ch < 3; ch++) {
          const v = values[src + (c === 1 ? 0 : ch)] as number;
          data[dst + ch] = Number.isNaN(v) ? (ch === 0 ? 255 : 0) : Math.round(v * 255);
        }
      }
    }
  }
  return { data, width, height };
}
