import { checkMatrix, checkSameDim, positiveInt, rowsFloat64, type FeatureMatrix } from "./matrix";
import { gemmNT } from "./linalg";

/** Options of {@link precisionRecall}. */
export interface PrecisionRecallOptions {
  /** Neighbourhood size: each manifold point's ball reaches its k-th nearest other point. Default 3 (the paper's). */
  k?: number;
}

/** Precision and recall, each a fraction in [0, 1]. */
export interface PrecisionRecallResult {
  /** Fraction of generated rows inside the real manifold. */
  precision: number;
  /** Fraction of real rows inside the generated manifold. */
  recall: number;
  k: number;
}

/**
 * Improved precision and recall of Kynkaanniemi et al. (2019, eq. 1-3). The manifold of a set Phi is the union of
 * balls B(phi, NN_k(phi)) around its points, NN_k(phi) the distance to the k-th nearest other point of Phi; then
 *
 *     f(x, Phi) = 1 if ||x - phi|| <= NN_k(phi) for some phi in Phi, else 0,
 *     precision = mean_{g in fake} f(g, real),      recall = mean_{r in real} f(r, fake),
 *
 * with Euclidean distances between feature rows (the official code's `kthvalue(k + 1)`, which counts the point
 * itself at distance 0, is the same radius). Exact float64 distances; the cost is O((n_real^2 + n_fake^2 +
 * 2 n_real n_fake) dim), lower in practice as a probe stops at the first ball that holds it.
 *
 * @param real features of real data `[n_real, dim]`, n_real > k
 * @param fake features of generated samples `[n_fake, dim]`, n_fake > k
 * @example
 * const { precision, recall } = precisionRecall(realFeatures, fakeFeatures, { k: 3 });
 */
export function precisionRecall(
  real: FeatureMatrix,
  fake: FeatureMatrix,
  options: PrecisionRecallOptions = {},
): PrecisionRecallResult {
  const fn = "precisionRecall";
  const r = checkMatrix(real, "real", fn);
  const f = checkMatrix(fake, "fake", fn);
  checkSameDim(r, f, "real", "fake", fn);
  const k = positiveInt(options.k, 3, "k", fn);
  if (r.rows <= k) throw new Error(`${fn}: real needs more than k = ${k} rows for k-NN radii, got ${r.rows}.`);
  if (f.rows <= k) throw new Error(`${fn}: fake needs more than k = ${k} rows for k-NN radii, got ${f.rows}.`);
  const dim = r.cols;
  const realSet = pointSet(rowsFloat64(r), r.rows, dim);
  const fakeSet = pointSet(rowsFloat64(f), f.rows, dim);
  const realRadii = kthNeighbourRadii(realSet, k);
  const fakeRadii = kthNeighbourRadii(fakeSet, k);
  return {
    precision: fractionInside(fakeSet, realSet, realRadii),
    recall: fractionInside(realSet, fakeSet, fakeRadii),
    k,
  };
}

interface PointSet {
  data: Float64Array;
  rows: number;
  dim: number;
  /** Squared norms of the rows. */
  norms: Float64Array;
}

function pointSet(data: Float64Array, rows: number, dim: number): PointSet {
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += (data[i * dim + c] as number) ** 2;
    norms[i] = s;
  }
  return { data, rows, dim, norms };
}

/** Rows per block of the distance computations. */
const BLOCK = 64;

/** Squared distance ||x_i - y_j||^2 = |x_i|^2 + |y_j|^2 - 2 x_i.y_j, clamped at 0. */
const sqDist = (ni: number, nj: number, dot: number): number => Math.max(ni + nj - 2 * dot, 0);

/** The squared distance from each point to its k-th nearest other point of the same set. */
function kthNeighbourRadii(set: PointSet, k: number): Float64Array {
  const { data, rows, dim, norms } = set;
  // best[i * k + t]: the k smallest squared distances seen for row i, ascending.
  const best = new Float64Array(rows * k).fill(Infinity);
  const insert = (i: number, v: number) => {
    const base = i * k;
    if (v >= (best[base + k - 1] as number)) return;
    let t = k - 1;
    while (t > 0 && (best[base + t - 1] as number) > v) {
      best[base + t] = best[base + t - 1] as number;
      t--;
    }
    best[base + t] = v;
  };
  const gram = new Float64Array(BLOCK * rows);
  for (let i0 = 0; i0 < rows; i0 += BLOCK) {
    const bi = Math.min(BLOCK, rows - i0);
    // Dots of rows i0..i0+bi against rows i0..rows-1; each pair i < j updates both rows.
    const cols = rows - i0;
    gemmNT(data.subarray(i0 * dim, (i0 + bi) * dim), bi, data.subarray(i0 * dim), cols, dim, gram);
    for (let a = 0; a < bi; a++) {
      const i = i0 + a;
      for (let j = i + 1; j < rows; j++) {
        const d2 = sqDist(norms[i] as number, norms[j] as number, gram[a * cols + (j - i0)] as number);
        insert(i, d2);
        insert(j, d2);
      }
    }
  }
  const radii = new Float64Array(rows);
  for (let i = 0; i < rows; i++) radii[i] = best[i * k + k - 1] as number;
  return radii;
}

/** The fraction of probe rows within the radius of at least one manifold row (squared distances and radii). */
function fractionInside(probes: PointSet, manifold: PointSet, radii: Float64Array): number {
  const dim = probes.dim;
  // Visit the manifold by decreasing radius, so that most probes find their ball early and stop.
  const order = Array.from({ length: manifold.rows }, (_, i) => i);
  order.sort((p, q) => (radii[q] as number) - (radii[p] as number));
  const sorted = new Float64Array(manifold.rows * dim);
  const sortedNorms = new Float64Array(manifold.rows);
  const sortedRadii = new Float64Array(manifold.rows);
  order.forEach((src, dst) => {
    sorted.set(manifold.data.subarray(src * dim, (src + 1) * dim), dst * dim);
    sortedNorms[dst] = manifold.norms[src] as number;
    sortedRadii[dst] = radii[src] as number;
  });
  const TILE = 512;
  const gram = new Float64Array(BLOCK * TILE);
  const inside = new Uint8Array(BLOCK);
  let count = 0;
  for (let p0 = 0; p0 < probes.rows; p0 += BLOCK) {
    const bp = Math.min(BLOCK, probes.rows - p0);
    const block = probes.data.subarray(p0 * dim, (p0 + bp) * dim);
    inside.fill(0);
    let found = 0;
    for (let t0 = 0; t0 < manifold.rows && found < bp; t0 += TILE) {
      const bt = Math.min(TILE, manifold.rows - t0);
      gemmNT(block, bp, sorted.subarray(t0 * dim, (t0 + bt) * dim), bt, dim, gram);
      for (let a = 0; a < bp; a++) {
        if (inside[a]) continue;
        const np = probes.norms[p0 + a] as number;
        for (let j = 0; j < bt; j++) {
          const d2 = sqDist(np, sortedNorms[t0 + j] as number, gram[a * bt + j] as number);
          if (d2 <= (sortedRadii[t0 + j] as number)) {
            inside[a] = 1;
            found++;
            break;
          }
        }
      }
    }
    count += found;
  }
  return count / probes.rows;
}
