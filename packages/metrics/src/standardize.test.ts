import { describe, expect, it } from "vitest";
import { gaussian } from "./__fixtures__/gaussian";
import { kernelInceptionDistance } from "./kid";
import { standardizeFeatures, standardizeFeaturesWith } from "./standardize";

describe("standardizeFeatures", () => {
  const dim = 4;
  const real = { data: gaussian(400, dim, 1, [30, 5, 0.1, 2], [100, -7, 3, 0]), rows: 400 };
  const fake = { data: gaussian(300, dim, 2, [33, 5, 0.12, 2], [104, -7, 3, 0.5]), rows: 300 };

  it("gives the reference zero mean and unit population variance in every dimension, and maps others with the same map", () => {
    const [r, f] = standardizeFeatures(real, real, fake);
    for (let d = 0; d < dim; d++) {
      let mean = 0;
      for (let i = 0; i < 400; i++) mean += r!.data[i * dim + d]! / 400;
      let v = 0;
      for (let i = 0; i < 400; i++) v += (r!.data[i * dim + d]! - mean) ** 2 / 400;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(Math.abs(v - 1)).toBeLessThan(1e-12);
    }
    // The same affine map: (x - mean) / std, with the reference's mean and std; check one value by hand.
    let mean0 = 0;
    for (let i = 0; i < 400; i++) mean0 += real.data[i * dim]! / 400;
    let var0 = 0;
    for (let i = 0; i < 400; i++) var0 += (real.data[i * dim]! - mean0) ** 2 / 400;
    expect(f!.data[0]).toBeCloseTo((fake.data[0]! - mean0) / Math.sqrt(var0), 12);
    expect(f!.rows).toBe(300);
  });

  it("makes KID independent of a rescaling of the features, which raw KID is not", () => {
    const scaled = (m: { data: Float64Array; rows: number }, c: number) => ({ data: m.data.map((x) => c * x), rows: m.rows });
    const opts = { subsets: 10, subsetSize: 200, seed: 0 };
    const raw1 = kernelInceptionDistance(fake, real, opts).mean;
    const raw2 = kernelInceptionDistance(scaled(fake, 10), scaled(real, 10), opts).mean;
    expect(Math.abs(raw2 / raw1 - 1)).toBeGreaterThan(1); // the kernel sees the scale
    const [r1, f1] = standardizeFeatures(real, real, fake);
    const [r2, f2] = standardizeFeatures(scaled(real, 10), scaled(real, 10), scaled(fake, 10));
    const z1 = kernelInceptionDistance(f1!, r1!, opts).mean;
    const z2 = kernelInceptionDistance(f2!, r2!, opts).mean;
    expect(Math.abs(z2 - z1)).toBeLessThan(1e-9 * Math.max(1, Math.abs(z1)));
    // Different distributions still read as different: the shifted fake set against a second real sample.
    const real2 = { data: gaussian(300, dim, 3, [30, 5, 0.1, 2], [100, -7, 3, 0]), rows: 300 };
    const [rr, r2s] = standardizeFeatures(real, real, real2);
    expect(z1).toBeGreaterThan(10 * Math.abs(kernelInceptionDistance(r2s!, rr!, opts).mean));
  });

  it("only centres a dimension on which the reference does not vary, and names bad input", () => {
    const flat = { data: Float64Array.from([1, 5, 1, 7, 1, 9]), rows: 3 };
    const [z] = standardizeFeatures(flat, { data: Float64Array.from([2, 7]), rows: 1 });
    expect(z!.data[0]).toBe(1); // 2 - 1, not divided by a zero std
    expect(z!.data[1]).toBeCloseTo(0, 12);
    expect(() => standardizeFeatures({ data: Float64Array.from([1, 2]), rows: 1 })).toThrow(/standardizeFeatures: reference needs at least 2 rows/);
    expect(() => standardizeFeatures(flat, { data: Float64Array.from([1, 2, 3]), rows: 1 })).toThrow(/standardizeFeatures: reference has rows of 2 features but sets\[0\] has 3/);
    expect(() => standardizeFeaturesWith({ eps: -1 }, flat)).toThrow(/standardizeFeatures: eps must be a non-negative number/);
  });
});
