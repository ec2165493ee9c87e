/** Summary statistics of log X over the finite, strictly positive samples of X. */
export interface LogStats {
  /** Samples the statistics use: X finite and > 0. */
  count: number;
  /** Samples left out: X <= 0, NaN or infinite. */
  excluded: number;
  /** Mean of log X. */
  mean: number;
  /** Standard deviation of log X (divisor n, as numpy's default). */
  std: number;
  /** 5%, 50% and 95% quantiles of log X (linear interpolation between order statistics, numpy's default). */
  q05: number;
  q50: number;
  q95: number;
  /** Fraction of the used samples with log X < threshold. */
  pBelow: number;
  /** The threshold of pBelow. */
  threshold: number;
}

/**
 * Quantile q in [0, 1] of values sorted ascending, interpolating linearly between order statistics (Hyndman and Fan's
 * type 7, numpy's and R's default). NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new Error(`quantileSorted: q must be in [0, 1], got ${q}.`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

/**
 * Statistics of already-logged values (every one must be finite). `excluded` is passed through for the report.
 * With no values, every statistic is NaN.
 */
export function summarizeLog(logs: ArrayLike<number>, threshold: number, excluded = 0): LogStats {
  const n = logs.length;
  const sorted = Float64Array.from(logs).sort();
  let sum = 0;
  let below = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i] as number;
    if (!Number.isFinite(v)) throw new Error(`summarizeLog: values must be finite, got ${v} at sorted index ${i}.`);
    sum += v;
    if (v < threshold) below++;
  }
  const mean = n > 0 ? sum / n : Number.NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((sorted[i] as number) - mean) ** 2;
  return {
    count: n,
    excluded,
    mean,
    std: n > 0 ? Math.sqrt(ss / n) : Number.NaN,
    q05: quantileSorted(sorted, 0.05),
    q50: quantileSorted(sorted, 0.5),
    q95: quantileSorted(sorted, 0.95),
    pBelow: n > 0 ? below / n : Number.NaN,
    threshold,
  };
}

/** log of every finite, strictly positive value of x, and how many values were left out. */
export function positiveLogs(x: ArrayLike<number>): { logs: Float64Array; excluded: number } {
  const logs = new Float64Array(x.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v > 0 && Number.isFinite(v)) logs[m++] = Math.log(v);
  }
  return { logs: logs.subarray(0, m), excluded: x.length - m };
}

/** Statistics of log X over the finite, positive samples of x (e.g. a sampler's output read with `dataSync`). */
export function logStats(x: ArrayLike<number>, threshold: number): LogStats {
  const { logs, excluded } = positiveLogs(x);
  return summarizeLog(logs, threshold, excluded);
}

/** A histogram on fixed, equal-width bins; density = count / (total * width), so mass outside the range is lost. */
export interface Histogram {
  lo: number;
  hi: number;
  bins: number;
  /** Values per bin. */
  counts: number[];
  /** counts / (total * bin width), where total counts every sample given, including those outside [lo, hi). */
  density: number[];
  /** Samples below lo, at or above hi (finite values only). */
  below: number;
  above: number;
  /** Samples counted in total. */
  total: number;
}

/**
 * Histogram of `values` on `bins` equal bins over [lo, hi). `total` (default values.length) normalises the density:
 * pass the full sample size to let left-out samples (non-positive X, say) show as missing mass.
 */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number, total = values.length): Histogram {
  if (!(hi > lo)) throw new Error(`histogram: need lo < hi, got [${lo}, ${hi}].`);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${bins}.`);
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  let below = 0;
  let above = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < lo) below++;
    else if (v >= hi) above++;
    else if (v < hi) {
      // (NaN fails every comparison and is skipped.)
      const j = Math.min(bins - 1, Math.floor((v - lo) / width));
      counts[j] = (counts[j] as number) + 1;
    }
  }
  const density = counts.map((c) => (total > 0 ? c / (total * width) : 0));
  return { lo, hi, bins, counts, density, below, above, total };
}
