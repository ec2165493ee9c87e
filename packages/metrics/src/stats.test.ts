import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { reference, referenceSet } from "./__fixtures__/reference";
import { featureAccumulator, featureAccumulatorFromJSON, featureStats, type FeatureStats } from "./index";
import { float64FromBase64, float64ToBase64 } from "./linalg";

/** max_i |got_i - want_i| / max_i |want_i|. */
function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  return err / scale;
}

const A = referenceSet("A");
const rowsOf = (start: number, end: number) => ({ data: A.data.slice(start * A.dim, end * A.dim), rows: end - start });

describe("featureStats", () => {
  it("matches np.mean and np.cov(rowvar=False) to 1e-13 relative (full rank, and 20 rows < 32 features)", () => {
    for (const name of ["A", "C"]) {
      const want = reference.stats[name]!;
      const s = featureStats(referenceSet(name));
      expect(s.n).toBe(want.n);
      expect(s.dim).toBe(32);
      expect(maxRelErr(s.mean, want.mean)).toBeLessThan(1e-13);
      expect(maxRelErr(s.cov, want.cov)).toBeLessThan(1e-13);
    }
  });

  it("is the textbook example: rows [1, 2] and [3, 5] give mean [2, 3.5] and cov [[2, 3], [3, 4.5]]", () => {
    const s = featureStats({ data: Float64Array.from([1, 2, 3, 5]), rows: 2 });
    expect(Array.from(s.mean)).toEqual([2, 3.5]);
    expect(Array.from(s.cov)).toEqual([2, 3, 3, 4.5]);
  });

  it("is invariant to a large offset (no cancellation): x + 1e6 has the same covariance to 1e-9 relative", () => {
    const shifted = Float64Array.from(A.data, (v) => v + 1e6);
    const s0 = featureStats(A);
    const s1 = featureStats({ data: shifted, rows: A.rows });
    expect(maxRelErr(s1.cov, s0.cov)).toBeLessThan(1e-9);
  });

  it("reads a 2-D tensor like host data, and leaks no tensor", () => {
    const x = tf.tensor2d(A.data, [A.rows, A.dim]);
    const before = tf.memory().numTensors;
    const s = featureStats(x);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    const h = featureStats(A);
    expect(Array.from(s.cov)).toEqual(Array.from(h.cov));
    expect(Array.from(s.mean)).toEqual(Array.from(h.mean));
  });
});

describe("FeatureAccumulator", () => {
  const oneCall = featureStats(A);

  it("streams batches and merges shards: equal to one pass to 1e-12 relative, whatever the split", () => {
    const streamed = featureAccumulator({ dim: A.dim });
    for (const [s, e] of [
      [0, 1],
      [1, 50],
      [50, 51],
      [51, 300],
    ] as const) {
      streamed.add(rowsOf(s, e));
    }
    const shards = [
      [0, 7],
      [7, 130],
      [130, 131],
      [131, 300],
    ].map(([s, e]) => featureAccumulator({ dim: A.dim }).add(rowsOf(s as number, e as number)));
    const leftToRight = featureAccumulator({ dim: A.dim });
    shards.forEach((sh) => leftToRight.merge(sh));
    const rightToLeft = featureAccumulator({ dim: A.dim });
    [...shards].reverse().forEach((sh) => rightToLeft.merge(sh));
    const tree = featureAccumulator({ dim: A.dim })
      .merge(shards[0]!)
      .merge(shards[1]!)
      .merge(featureAccumulator({ dim: A.dim }).merge(shards[2]!).merge(shards[3]!));
    for (const acc of [streamed, leftToRight, rightToLeft, tree]) {
      const s = acc.stats();
      expect(s.n).toBe(300);
      expect(maxRelErr(s.mean, oneCall.mean)).toBeLessThan(1e-12);
      expect(maxRelErr(s.cov, oneCall.cov)).toBeLessThan(1e-12);
    }
    // Different orders agree with each other to the same precision.
    expect(maxRelErr(leftToRight.stats().cov, rightToLeft.stats().cov)).toBeLessThan(1e-12);
    expect(maxRelErr(tree.stats().cov, rightToLeft.stats().cov)).toBeLessThan(1e-12);
  });

  it("merge is commutative bit for bit: a.merge(b) and b.merge(a) serialize identically", () => {
    const make = (s: number, e: number) => featureAccumulator({ dim: A.dim }).add(rowsOf(s, e));
    const ab = make(0, 100).merge(make(100, 300));
    const ba = make(100, 300).merge(make(0, 100));
    expect(ab.toJSON()).toEqual(ba.toJSON());
  });

  it("merging with itself doubles the count and keeps mean and covariance (n - 1 aside)", () => {
    const acc = featureAccumulator({ dim: A.dim }).add(A);
    acc.merge(acc);
    const s = acc.stats();
    expect(s.n).toBe(600);
    expect(maxRelErr(s.mean, oneCall.mean)).toBeLessThan(1e-15);
    const scaled = oneCall.cov.map((v) => (v * 299 * 2) / 599);
    expect(maxRelErr(s.cov, scaled)).toBeLessThan(1e-14);
  });

  it("round-trips through JSON bit for bit and keeps merging", () => {
    const first = featureAccumulator({ dim: A.dim, extractor: "toy" }).add(rowsOf(0, 123));
    const text = JSON.stringify(first.toJSON());
    const back = featureAccumulatorFromJSON(JSON.parse(text));
    expect(back.n).toBe(123);
    expect(back.extractor).toBe("toy");
    expect(back.toJSON()).toEqual(first.toJSON());
    const a: FeatureStats = first.stats();
    const b: FeatureStats = back.stats();
    expect(Buffer.from(b.cov.buffer).equals(Buffer.from(a.cov.buffer))).toBe(true);
    expect(Buffer.from(b.mean.buffer).equals(Buffer.from(a.mean.buffer))).toBe(true);
    expect(b.extractor).toBe("toy");
    const rest = featureAccumulator({ dim: A.dim, extractor: "toy" }).add(rowsOf(123, 300));
    const merged = back.merge(rest).stats();
    expect(maxRelErr(merged.cov, oneCall.cov)).toBeLessThan(1e-12);
    // Packed upper triangle: dim (dim + 1) / 2 float64 values, base64.
    expect(first.toJSON().m2.length).toBe(4 * Math.ceil(((32 * 33) / 2) * 8 / 3));
  });

  it("base64 float64 is bit-exact (subnormals, -0, extremes, 1/3) and rejects wrong lengths", () => {
    const values = Float64Array.from([5e-324, -0, 1.7976931348623157e308, 1 / 3, -2.5e-310, Math.PI]);
    for (let len = 0; len <= values.length; len++) {
      const v = values.slice(0, len);
      const back = float64FromBase64(float64ToBase64(v), len, "v", "test");
      expect(Buffer.from(back.buffer).equals(Buffer.from(v.buffer))).toBe(true);
    }
    expect(float64ToBase64(Float64Array.from([1]))).toBe(Buffer.from(Float64Array.from([1]).buffer).toString("base64"));
    expect(() => float64FromBase64("AAAA", 1, "mean", "f")).toThrow(/f: mean must encode 1 float64 values \(8 bytes\)/);
    expect(() => float64FromBase64("AAAAAAAAA?A=", 1, "mean", "f")).toThrow(/not valid base64/);
  });
});

describe("validation", () => {
  it("names the argument, the function and the expectation", () => {
    expect(() => featureStats({ data: new Float32Array(10), rows: 3 })).toThrow(
      /featureStats: features.data has 10 values, which is not divisible by features.rows = 3/,
    );
    expect(() => featureStats({ data: new Float32Array(4), rows: 1 })).toThrow(
      /featureStats: features needs at least 2 rows for a covariance, got 1/,
    );
    expect(() => featureStats({ data: Float32Array.from([1, NaN, 3, 4]), rows: 2 })).toThrow(
      /featureStats: features has a non-finite value \(NaN\) at row 0, column 1/,
    );
    const x = tf.zeros([2, 3, 4]);
    expect(() => featureStats(x as unknown as tf.Tensor2D)).toThrow(
      /features must be a 2-D tensor \[rows, dim\], got rank 3/,
    );
    x.dispose();
    const acc = featureAccumulator({ dim: 4 });
    expect(() => acc.add({ data: new Float32Array(6), rows: 2 })).toThrow(
      /features has rows of 3 features, this accumulator 4/,
    );
    expect(() => acc.merge(featureAccumulator({ dim: 5 }))).toThrow(/other has dim 5, this accumulator 4/);
    expect(() => acc.merge(featureAccumulator({ dim: 4, extractor: "inception" }))).toThrow(/extractor "inception"/);
    expect(() => acc.stats()).toThrow(/at least 2 rows, got 0/);
    expect(() => featureAccumulator({ dim: 0 })).toThrow(/dim must be a positive integer/);
    const json = featureAccumulator({ dim: 4 }).toJSON();
    expect(() => featureAccumulatorFromJSON({ ...json, dim: 5 })).toThrow(/mean must encode 5 float64 values/);
    expect(() => featureAccumulatorFromJSON({ ...json, version: 2 as 1 })).toThrow(/unsupported version 2/);
  });
});
