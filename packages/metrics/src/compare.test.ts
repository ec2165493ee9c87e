import { describe, expect, it } from "vitest";
import { gaussian } from "./__fixtures__/gaussian";
import { compareFeatures } from "./compare";
import { featureStats } from "./stats";

const dim = 4;
const real = { data: gaussian(300, dim, 1, [3, 1, 0.5, 2], [1, -2, 0, 4]), rows: 300 };
const fake = { data: gaussian(200, dim, 2, [3.3, 1, 0.6, 2], [1.5, -2, 0.2, 4]), rows: 200 };
const kid = { subsets: 10, subsetSize: 100, seed: 3 };

describe("compareFeatures", () => {
  it("FID of a set against itself shifted by c is |c|^2 (equal covariances leave only the mean term)", () => {
    const c = [0.5, -1, 2, 0];
    const shifted = { data: real.data.map((x, i) => x + c[i % dim]!), rows: real.rows };
    const { fid } = compareFeatures(real, shifted);
    expect(fid).toBeCloseTo(0.25 + 1 + 4, 6);
  });

  it("precision and recall of a set against itself are 1", () => {
    expect(compareFeatures(real, real, { fid: false, prK: 3 })).toEqual({ precision: 1, recall: 1 });
  });

  it("standardised KID does not change when every feature is rescaled; raw KID does", () => {
    const scale = [100, 0.01, 7, 1];
    const rescale = (m: { data: Float64Array; rows: number }) => ({ data: m.data.map((x, i) => x * scale[i % dim]!), rows: m.rows });
    const a = compareFeatures(real, fake, { fid: false, kid, standardizedKid: true });
    const b = compareFeatures(rescale(real), rescale(fake), { fid: false, kid, standardizedKid: true });
    expect(b.kidStandardized!.mean).toBeCloseTo(a.kidStandardized!.mean, 9);
    expect(Math.abs(b.kid!.mean - a.kid!.mean)).toBeGreaterThan(1);
    expect(a.kid!.subsetSize).toBe(100);
  });

  it("uses the real statistics it is given, and clips the KID subset to the smaller set", () => {
    const own = compareFeatures(real, fake, { kid: { ...kid, subsetSize: 1000 } });
    expect(own.kid!.subsetSize).toBe(200);
    expect(compareFeatures(real, fake, { realStats: featureStats(real) }).fid).toBe(own.fid);
    // Other real statistics change FID: the option is read, not ignored.
    expect(compareFeatures(real, fake, { realStats: featureStats(fake) }).fid).toBeCloseTo(0, 9);
  });

  it("computes only what it is asked for, and refuses standardised KID without KID's settings", () => {
    expect(Object.keys(compareFeatures(real, fake))).toEqual(["fid"]);
    expect(() => compareFeatures(real, fake, { standardizedKid: true })).toThrow(/compareFeatures: standardizedKid needs the kid option/);
  });
});
