import { gemmNT, mirrorUpper, symmetricEigen } from "./linalg";

/**
 * A Gaussian given by its mean `[dim]` and covariance `[dim, dim]` (row-major). {@link FeatureStats} is one; so is
 * `{ mean: mu, cov: sigma }` read from a pytorch-fid `.npz`.
 */
export interface GaussianStats {
  readonly mean: ArrayLike<number>;
  readonly cov: ArrayLike<number>;
  /** When both sides name their extractor, the names must agree. */
  readonly extractor?: string;
}

/**
 * The Frechet distance between N(mu_1, S_1) and N(mu_2, S_2), the FID of Heusel et al. (2017, eq. 6; Dowson and
 * Landau 1982):
 *
 *     d^2 = ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^{1/2}).
 *
 * The trace of the square root is computed with symmetric eigendecompositions only, in float64:
 * S_1 = V diag(l) V^T gives S_1^{1/2} = V diag(sqrt(max(l, 0))) V^T, and since S_1 S_2 is similar to the symmetric
 * positive semi-definite M = S_1^{1/2} S_2 S_1^{1/2},
 *
 *     tr((S_1 S_2)^{1/2}) = sum_k sqrt(max(eig_k(M), 0)).
 *
 * M is formed as L S_2 L^T with L = diag(sqrt(l)) V^T (similar to S_1^{1/2} S_2 S_1^{1/2}), restricted to the
 * directions with l > 0, so singular covariances (fewer rows than features, dead features) need no offset. This is
 * the number pytorch-fid computes with `scipy.linalg.sqrtm(sigma1.dot(sigma2))` (a non-symmetric Schur method whose
 * rounding shows as an imaginary part it discards); tests agree with it to 1e-6 relative or better.
 *
 * Cost: one eigendecomposition with vectors, two products and one eigenvalues-only decomposition, all O(dim^3).
 * At dim = 2048 see the package README for the measured time (about a minute of single-threaded JavaScript).
 * The result is not clamped: two equal Gaussians give a rounding-sized value that may be slightly negative.
 *
 * @param a first Gaussian (pytorch-fid's mu1, sigma1), e.g. {@link featureStats} of generated samples
 * @param b second Gaussian, e.g. the statistics of the training set
 * @example
 * // Commuting diagonal covariances: d^2 = |mu_1 - mu_2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2 = 1 + 1 = 2.
 * frechetDistance({ mean: [0, 0], cov: [1, 0, 0, 4] }, { mean: [1, 0], cov: [4, 0, 0, 4] }); // 2
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  const fn = "frechetDistance";
  const dim = checkGaussian(a, "a", fn);
  const dimB = checkGaussian(b, "b", fn);
  if (dim !== dimB) {
    throw new Error(`${fn}: a has dim ${dim} but b has dim ${dimB}; both must come from the same extractor.`);
  }
  if (a.extractor !== undefined && b.extractor !== undefined && a.extractor !== b.extractor) {
    throw new Error(`${fn}: a holds features of extractor "${a.extractor}" but b of "${b.extractor}".`);
  }
  const s1 = symmetrized(a.cov, dim);
  const s2 = symmetrized(b.cov, dim);
  // 1. ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2).
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < dim; i++) {
    const diff = (a.mean[i] as number) - (b.mean[i] as number);
    meanTerm += diff * diff;
    traces += (s1[i * dim + i] as number) + (s2[i * dim + i] as number);
  }
  return meanTerm + traces - 2 * traceSqrtProduct(s1, s2, dim);
}

/**
 * tr((S_1 S_2)^{1/2}) for symmetric positive semi-definite S_1, S_2 (see {@link frechetDistance}); exported for
 * tests and for callers who want the terms apart.
 */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, dim: number): number {
  // 1. S_1 = V diag(l) V^T; the rows of `vt` are the eigenvectors.
  const { values, vectors } = symmetricEigen(s1, dim, { vectors: true });
  const vt = vectors as Float64Array;
  // 2. L = diag(sqrt(l)) V^T over the r eigenvalues l > 0.
  const keep: number[] = [];
  for (let k = 0; k < dim; k++) if ((values[k] as number) > 0) keep.push(k);
  const r = keep.length;
  if (r === 0) return 0;
  const l = new Float64Array(r * dim);
  keep.forEach((k, row) => {
    const root = Math.sqrt(values[k] as number);
    for (let j = 0; j < dim; j++) l[row * dim + j] = root * (vt[k * dim + j] as number);
  });
  // 3. M = L S_2 L^T, [r, r]: first L S_2 (rows of S_2 are its columns, S_2 being symmetric), then (L S_2) L^T.
  const ls2 = new Float64Array(r * dim);
  gemmNT(l, r, s2, dim, dim, ls2);
  const m = new Float64Array(r * r);
  gemmNT(ls2, r, l, r, dim, m, { upper: true });
  mirrorUpper(m, r);
  // 4. sum of sqrt(max(eig(M), 0)).
  const mu = symmetricEigen(m, r, { vectors: false }).values;
  let trace = 0;
  for (let k = 0; k < r; k++) trace += Math.sqrt(Math.max(mu[k] as number, 0));
  return trace;
}

function checkGaussian(g: GaussianStats, arg: string, fn: string): number {
  if (typeof g !== "object" || g === null || g.mean === undefined || g.cov === undefined) {
    throw new Error(`${fn}: ${arg} must be { mean: [dim], cov: [dim * dim] }, e.g. from featureStats.`);
  }
  const dim = g.mean.length;
  if (dim < 1) throw new Error(`${fn}: ${arg}.mean is empty.`);
  if (g.cov.length !== dim * dim) {
    throw new Error(
      `${fn}: ${arg}.cov must hold dim * dim = ${dim * dim} values (row-major [${dim}, ${dim}]), got ${g.cov.length}.`,
    );
  }
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(g.mean[i] as number)) {
      throw new Error(`${fn}: ${arg}.mean[${i}] is not finite (${g.mean[i]}).`);
    }
  }
  let scale = 0;
  for (let i = 0; i < dim * dim; i++) {
    const v = g.cov[i] as number;
    if (!Number.isFinite(v)) {
      throw new Error(`${fn}: ${arg}.cov[${Math.floor(i / dim)}][${i % dim}] is not finite (${v}).`);
    }
    scale = Math.max(scale, Math.abs(v));
  }
  for (let i = 0; i < dim; i++) {
    const v = g.cov[i * dim + i] as number;
    if (v < 0) throw new Error(`${fn}: ${arg}.cov has a negative variance ${v} at [${i}][${i}]; not a covariance.`);
    for (let j = i + 1; j < dim; j++) {
      const gap = Math.abs((g.cov[i * dim + j] as number) - (g.cov[j * dim + i] as number));
      if (gap > 1e-9 * scale) {
        throw new Error(
          `${fn}: ${arg}.cov is not symmetric: [${i}][${j}] and [${j}][${i}] differ by ${gap} (max |entry| ${scale}).`,
        );
      }
    }
  }
  return dim;
}

/** (S + S^T) / 2 as a new Float64Array. */
function symmetrized(cov: ArrayLike<number>, dim: number): Float64Array {
  const s = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    s[i * dim + i] = cov[i * dim + i] as number;
    for (let j = i + 1; j < dim; j++) {
      const v = 0.5 * ((cov[i * dim + j] as number) + (cov[j * dim + i] as number));
      s[i * dim + j] = v;
      s[j * dim + i] = v;
    }
  }
  return s;
}
