// A guard the feature metrics lack: a sampler that returns (nearly) the same image every time can still get a finite
// FID, so each row also reports how much its images differ from one another, next to the real images' value.

/**
 * Mean, over pixel positions, of the standard deviation across images (denominator n - 1): 0 when every image is the
 * same. `pixels` holds `count` images of equal size, one after another.
 */
export function pixelSpread(pixels: Float32Array, count: number): number {
  if (!Number.isInteger(count) || count < 2) throw new Error(`pixelSpread: count must be an integer >= 2, got ${count}.`);
  if (pixels.length % count !== 0) throw new Error(`pixelSpread: pixels.length (${pixels.length}) is not a multiple of count (${count}).`);
  const size = pixels.length / count;
  let sum = 0;
  for (let j = 0; j < size; j++) {
    // Two passes per position, in float64: the mean, then the squared deviations.
    let mean = 0;
    for (let i = 0; i < count; i++) mean += pixels[i * size + j] as number;
    mean /= count;
    let ss = 0;
    for (let i = 0; i < count; i++) {
      const d = (pixels[i * size + j] as number) - mean;
      ss += d * d;
    }
    sum += Math.sqrt(ss / (count - 1));
  }
  return sum / size;
}
