import { checkMatrix, checkSameDim, type FeatureMatrix, type HostFeatureMatrix } from "./matrix";

/**
 * Standardises feature sets with the statistics of a reference set: each dimension d of every set becomes
 * (x_d - mean_d) / std_d, where mean and std (population, ddof 0) are the reference's. Dimensions on which the
 * reference does not vary (std below `eps` times the largest std) are only centred.
 *
 * KID's polynomial kernel k(x, y) = (x.y / dim + 1)^3 assumes features of order one. On unscaled classifier features
 * (values in the tens) x.y / dim is far above 1, so KID x 1000 reads in the hundreds of thousands and mostly measures
 * the feature scale; on features standardised with the real images' statistics every dimension counts alike, the
 * values read on the scale the literature reports, and they no longer change when the feature network rescales its
 * outputs. FID stays on raw features, as it is defined.
 *
 * @param reference the set whose statistics are used, e.g. the held-out real images' features `[n, dim]`
 * @param sets the sets to standardise (the reference itself may be among them)
 * @returns one float64 `{ data, rows }` per set, in order
 * @example
 * const [realZ, fakeZ] = standardizeFeatures(real, real, fake);
 * const kid = kernelInceptionDistance(fakeZ, realZ);
 */
export function standardizeFeatures(reference: FeatureMatrix, ...sets: FeatureMatrix[]): HostFeatureMatrix[] {
  return standardizeFeaturesWith({}, reference, ...sets);
}

/** {@link standardizeFeatures} with options: `eps` (default 1e-12), the relative std below which a dimension is only centred. */
export function standardizeFeaturesWith(options: { eps?: number }, reference: FeatureMatrix, ...sets: FeatureMatrix[]): HostFeatureMatrix[] {
  const fn = "standardizeFeatures";
  const eps = options.eps ?? 1e-12;
  if (!Number.isFinite(eps) || eps < 0) throw new Error(`${fn}: eps must be a non-negative number, got ${eps}.`);
  const ref = checkMatrix(reference, "reference", fn);
  if (ref.rows < 2) throw new Error(`${fn}: reference needs at least 2 rows to have a spread, got ${ref.rows}.`);
  const dim = ref.cols;
  const mean = new Float64Array(dim);
  const m2 = new Float64Array(dim);
  // Welford, row by row: stable for features with a large mean.
  for (let r = 0; r < ref.rows; r++) {
    for (let d = 0; d < dim; d++) {
      const x = ref.data[r * dim + d]!;
      const delta = x - mean[d]!;
      mean[d]! += delta / (r + 1);
      m2[d]! += delta * (x - mean[d]!);
    }
  }
  const std = Float64Array.from(m2, (v) => Math.sqrt(v / ref.rows));
  const top = std.reduce((a, b) => Math.max(a, b), 0);
  const scale = Float64Array.from(std, (s) => (s > eps * top && s > 0 ? 1 / s : 1));
  return sets.map((set, i) => {
    const m = checkMatrix(set, `sets[${i}]`, fn);
    checkSameDim(ref, m, "reference", `sets[${i}]`, fn);
    const out = new Float64Array(m.rows * dim);
    for (let r = 0; r < m.rows; r++) {
      for (let d = 0; d < dim; d++) out[r * dim + d] = (m.data[r * dim + d]! - mean[d]!) * scale[d]!;
    }
    return { data: out, rows: m.rows };
  });
}
