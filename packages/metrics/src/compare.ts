import { frechetDistance } from "./frechet";
import { kernelInceptionDistance } from "./kid";
import type { FeatureMatrix } from "./matrix";
import { precisionRecall } from "./precision-recall";
import { standardizeFeatures } from "./standardize";
import { featureStats, type FeatureStats } from "./stats";

/** What {@link compareFeatures} computes; a metric left out (or `false`) is not computed. */
export interface CompareFeaturesOptions {
  /** FID on the raw features (default true). */
  fid?: boolean;
  /**
   * KID on the raw features: its number of subsets, subset size (clipped to both row counts, as clean-fid does) and
   * the seed of the subset draws; `false` (the default): no KID.
   */
  kid?: { subsets: number; subsetSize: number; seed: number } | false;
  /** Also KID on features standardised by the real set's mean and std (needs `kid`; default false). */
  standardizedKid?: boolean;
  /** k of the k-NN manifolds of precision and recall; `false` (the default): neither. */
  prK?: number | false;
  /** `featureStats(real)`, for a caller that compares many sets with one real set and computes it once. */
  realStats?: FeatureStats;
}

/** The metrics {@link compareFeatures} was asked for. */
export interface FeatureComparison {
  fid?: number;
  /** KID's mean and standard error over the subsets, and the subset size used. */
  kid?: { mean: number; std: number; subsetSize: number };
  kidStandardized?: { mean: number; std: number; subsetSize: number };
  precision?: number;
  recall?: number;
}

/**
 * The metrics of a generated feature set against a real one, with one set of options, so that every report of the
 * toolkit (dale-bench's rows, `dale-metrics`, the bench's .npy tool) computes them alike:
 * - FID on the raw features ({@link frechetDistance} of the two {@link featureStats});
 * - KID on the raw features, and optionally on features standardised with the real set's statistics
 *   ({@link standardizeFeatures}), with the same subsets;
 * - precision and recall on k-NN manifolds ({@link precisionRecall}).
 *
 * @param real the real features `[n, dim]`
 * @param fake the generated features `[m, dim]`
 * @example
 * const m = compareFeatures(real, fake, { kid: { subsets: 100, subsetSize: 1000, seed: 0 }, standardizedKid: true, prK: 3 });
 * console.log(m.fid, m.kid?.mean, m.kidStandardized?.mean, m.precision, m.recall);
 */
export function compareFeatures(real: FeatureMatrix, fake: FeatureMatrix, options: CompareFeaturesOptions = {}): FeatureComparison {
  const { fid = true, kid = false, standardizedKid = false, prK = false } = options;
  if (standardizedKid && kid === false) throw new Error("compareFeatures: standardizedKid needs the kid option (its subsets, subset size and seed).");
  const out: FeatureComparison = {};
  if (fid) out.fid = frechetDistance(options.realStats ?? featureStats(real), featureStats(fake));
  if (kid !== false) {
    const kidOf = (a: FeatureMatrix, b: FeatureMatrix) => {
      const r = kernelInceptionDistance(a, b, kid);
      return { mean: r.mean, std: r.std, subsetSize: r.subsetSize };
    };
    out.kid = kidOf(real, fake);
    if (standardizedKid) {
      const [realZ, fakeZ] = standardizeFeatures(real, real, fake);
      out.kidStandardized = kidOf(realZ!, fakeZ!);
    }
  }
  if (prK !== false) {
    const pr = precisionRecall(real, fake, { k: prK });
    out.precision = pr.precision;
    out.recall = pr.recall;
  }
  return out;
}
