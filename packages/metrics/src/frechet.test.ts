import { EigenvalueDecomposition, Matrix, QrDecomposition } from "ml-matrix";
import { describe, expect, it } from "vitest";
import { reference, referenceSet, relErr } from "./__fixtures__/reference";
import { traceSqrtProduct } from "./frechet";
import { featureStats, frechetDistance, type FeatureStats } from "./index";
import { symmetricEigen } from "./linalg";

const stats: Record<string, FeatureStats> = {};
const statsOf = (name: string): FeatureStats => (stats[name] ??= featureStats(referenceSet(name)));

/** A seeded uniform generator for test matrices (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random orthogonal [n, n] matrix (Q of a QR decomposition, ml-matrix), row-major. */
function randomOrthogonal(n: number, seed: number): Matrix {
  const u = uniform(seed);
  return new QrDecomposition(Matrix.from1DArray(n, n, Array.from({ length: n * n }, () => u() - 0.5))).orthogonalMatrix;
}

/** Q diag(values) Q^T as a row-major Float64Array. */
function withSpectrum(q: Matrix, values: number[]): Float64Array {
  return Float64Array.from(q.mmul(Matrix.diag(values)).mmul(q.transpose()).to1DArray());
}

describe("frechetDistance against pytorch-fid (scipy.linalg.sqrtm) and 50-digit arithmetic", () => {
  it.each(reference.fid.map((c) => [`${c.a} vs ${c.b}`, c] as const))("%s", (_, c) => {
    const fid = frechetDistance(statsOf(c.a), statsOf(c.b));
    // The requirement: pytorch-fid's number to 1e-6 relative.
    expect(relErr(fid, c.pytorchFid)).toBeLessThan(1e-6);
    // Against the exact value of the same float32 features. Full-rank, well-conditioned covariances leave only
    // rounding; singular ones (C: 20 rows, 32 features; E: an exact and a 1e-6 linear dependency) lose about
    // sqrt(2^-52) relative in the square roots of their noise-level eigenvalues, as scipy's sqrtm does (it is off by
    // 2e-8 on C vs D).
    const singular = [c.a, c.b].some((n) => n === "C" || n === "E");
    expect(relErr(fid, c.exact)).toBeLessThan(singular ? 2e-8 : 1e-13);
  });

  it("is symmetric in its arguments and zero for equal statistics", () => {
    const ab = frechetDistance(statsOf("A"), statsOf("B"));
    expect(relErr(frechetDistance(statsOf("B"), statsOf("A")), ab)).toBeLessThan(1e-13);
    const a = statsOf("A");
    let trace = 0;
    for (let i = 0; i < a.dim; i++) trace += a.cov[i * a.dim + i] as number;
    expect(Math.abs(frechetDistance(a, a))).toBeLessThan(1e-12 * trace);
  });

  it("tolerances are meaningful: the biased covariance (n instead of n - 1) moves FID by far more than 1e-6", () => {
    const a = statsOf("A");
    const biased = { mean: a.mean, cov: a.cov.map((v) => (v * (a.n - 1)) / a.n) };
    const want = reference.fid.find((c) => c.a === "A" && c.b === "B")!.pytorchFid;
    expect(relErr(frechetDistance(biased, statsOf("B")), want)).toBeGreaterThan(1e-4);
  });
});

describe("frechetDistance closed forms", () => {
  it("commuting diagonal covariances: |mu_1 - mu_2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2", () => {
    const u = uniform(1);
    const dim = 16;
    const mu1 = Array.from({ length: dim }, () => u() * 4 - 2);
    const mu2 = Array.from({ length: dim }, () => u() * 4 - 2);
    const a = Array.from({ length: dim }, () => 0.1 + 3 * u());
    const b = Array.from({ length: dim }, () => 0.1 + 3 * u());
    const diag = (v: number[]) => Matrix.diag(v).to1DArray();
    let want = 0;
    for (let i = 0; i < dim; i++) want += (mu1[i]! - mu2[i]!) ** 2 + (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2;
    expect(relErr(frechetDistance({ mean: mu1, cov: diag(a) }, { mean: mu2, cov: diag(b) }), want)).toBeLessThan(1e-13);
    // The doc-comment example.
    const example = frechetDistance({ mean: [0, 0], cov: [1, 0, 0, 4] }, { mean: [1, 0], cov: [4, 0, 0, 4] });
    expect(example).toBeCloseTo(2, 14);
  });

  it("commuting covariances in a rotated basis, one of them singular", () => {
    const dim = 24;
    const q = randomOrthogonal(dim, 2);
    const u = uniform(3);
    const a = Array.from({ length: dim }, (_, i) => (i < 6 ? 0 : 0.05 + 2 * u())); // rank 18
    const b = Array.from({ length: dim }, () => 0.05 + 2 * u());
    const mean = new Array<number>(dim).fill(0);
    let want = 0;
    for (let i = 0; i < dim; i++) want += (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2;
    const fid = frechetDistance({ mean, cov: withSpectrum(q, a) }, { mean, cov: withSpectrum(q, b) });
    expect(relErr(fid, want)).toBeLessThan(1e-7);
  });

  it("non-commuting 2x2: tr sqrt(S_1 S_2) = sqrt(tr(S_1 S_2) + 2 sqrt(det(S_1 S_2)))", () => {
    const s1 = Float64Array.from([2, 0.7, 0.7, 1]);
    const s2 = Float64Array.from([0.5, -0.2, -0.2, 3]);
    const p = [2 * 0.5 + 0.7 * -0.2, 2 * -0.2 + 0.7 * 3, 0.7 * 0.5 + 1 * -0.2, 0.7 * -0.2 + 1 * 3];
    const want = Math.sqrt(p[0]! + p[3]! + 2 * Math.sqrt(p[0]! * p[3]! - p[1]! * p[2]!));
    expect(relErr(traceSqrtProduct(s1, s2, 2), want)).toBeLessThan(1e-14);
    expect(relErr(traceSqrtProduct(s2, s1, 2), want)).toBeLessThan(1e-14);
  });
});

describe("symmetricEigen", () => {
  it("agrees with ml-matrix and satisfies A v = l v with orthonormal v", () => {
    for (const n of [1, 2, 5, 40]) {
      const u = uniform(n);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          const v = u() - 0.5;
          a[i * n + j] = v;
          a[j * n + i] = v;
        }
      }
      const { values, vectors } = symmetricEigen(a, n, { vectors: true });
      const want = new EigenvalueDecomposition(Matrix.from1DArray(n, n, Array.from(a)), { assumeSymmetric: true });
      const sorted = [...want.realEigenvalues].sort((x, y) => x - y);
      sorted.forEach((l, k) => expect(Math.abs(values[k]! - l)).toBeLessThan(1e-13));
      expect(Array.from(symmetricEigen(a, n, { vectors: false }).values)).toEqual(Array.from(values));
      const v = vectors!;
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < n; i++) {
          let av = 0;
          for (let j = 0; j < n; j++) av += a[i * n + j]! * v[k * n + j]!;
          expect(Math.abs(av - values[k]! * v[k * n + i]!)).toBeLessThan(1e-13);
        }
        for (let l = 0; l < n; l++) {
          let dot = 0;
          for (let j = 0; j < n; j++) dot += v[k * n + j]! * v[l * n + j]!;
          expect(Math.abs(dot - (k === l ? 1 : 0))).toBeLessThan(1e-13);
        }
      }
    }
  });

  it("handles a zero matrix and a repeated spectrum", () => {
    expect(Array.from(symmetricEigen(new Float64Array(9), 3, { vectors: true }).values)).toEqual([0, 0, 0]);
    const q = randomOrthogonal(6, 9);
    const { values } = symmetricEigen(withSpectrum(q, [2, 2, 2, 5, 5, -1]), 6, { vectors: false });
    [-1, 2, 2, 2, 5, 5].forEach((l, k) => expect(Math.abs(values[k]! - l)).toBeLessThan(1e-14));
  });
});

describe("frechetDistance validation", () => {
  const g = { mean: [0, 0], cov: [1, 0, 0, 1] };
  it("names the argument and the expectation", () => {
    expect(() => frechetDistance(g, { mean: [0, 0, 0], cov: new Array(9).fill(0) })).toThrow(
      /frechetDistance: a has dim 2 but b has dim 3/,
    );
    expect(() => frechetDistance(g, { mean: [0, 0], cov: [1, 0, 0] })).toThrow(/b.cov must hold dim \* dim = 4 values/);
    expect(() => frechetDistance({ mean: [0, 0], cov: [1, 0.5, 0, 1] }, g)).toThrow(/a.cov is not symmetric/);
    expect(() => frechetDistance({ mean: [0, NaN], cov: [1, 0, 0, 1] }, g)).toThrow(/a.mean\[1\] is not finite/);
    expect(() => frechetDistance(g, { mean: [0, 0], cov: [1, 0, 0, -1] })).toThrow(/b.cov has a negative variance/);
    expect(() => frechetDistance({ ...g, extractor: "inception" }, { ...g, extractor: "mnist-classifier" })).toThrow(
      /extractor "inception" but b of "mnist-classifier"/,
    );
  });
});
