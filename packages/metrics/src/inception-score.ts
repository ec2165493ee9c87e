import { checkMatrix, positiveInt, type FeatureMatrix } from "./matrix";

/** Options of {@link inceptionScore}. */
export interface InceptionScoreOptions {
  /** What the rows hold: unnormalised class `logits` (softmax is applied in float64) or class `probabilities`. */
  input: "logits" | "probabilities";
  /** Number of contiguous splits the score is computed on. Default 10 (Salimans et al.). */
  splits?: number;
}

/** Inception Score over the splits: mean and population standard deviation (`np.std`, as the original code). */
export interface InceptionScoreResult {
  mean: number;
  std: number;
  /** The score of each split, `[splits]`. */
  values: Float64Array;
}

/** How far a row of `probabilities` may sum from 1. */
const SUM_TOLERANCE = 1e-3;

/**
 * The Inception Score of Salimans et al. (2016, section 4), as their released code computes it:
 *
 *     IS = exp(E_x KL(p(y|x) || p(y))),   KL = sum_y p(y|x) (log p(y|x) - log p(y)),
 *
 * with p(y) the mean of p(y|x) over the split. Rows are cut into `splits` contiguous parts, part s holding rows
 * floor(s N / splits) to floor((s + 1) N / splits) - 1; the result is the mean and standard deviation of the
 * per-split scores. Float64 throughout; 0 log 0 = 0. The rows are taken in the given order (torch-fidelity shuffles
 * them first; shuffle before calling to match it).
 *
 * @param predictions `[N, classes]`: logits or probabilities (rows summing to 1 within 1e-3), per `options.input`
 * @example
 * const { mean, std } = inceptionScore(logits, { input: "logits", splits: 10 });
 */
export function inceptionScore(predictions: FeatureMatrix, options: InceptionScoreOptions): InceptionScoreResult {
  const fn = "inceptionScore";
  const input = typeof options === "object" && options !== null ? options.input : undefined;
  if (input !== "logits" && input !== "probabilities") {
    throw new Error(`${fn}: options.input must be "logits" or "probabilities".`);
  }
  const p = checkMatrix(predictions, "predictions", fn);
  const splits = positiveInt(options.splits, 10, "splits", fn);
  if (splits > p.rows) throw new Error(`${fn}: splits = ${splits} is more than the ${p.rows} rows of predictions.`);
  const classes = p.cols;
  // 1. p(y|x) and log p(y|x) in float64.
  const prob = new Float64Array(p.rows * classes);
  const logProb = new Float64Array(p.rows * classes);
  for (let i = 0; i < p.rows; i++) {
    const row = i * classes;
    if (options.input === "logits") {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, p.data[row + c] as number);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp((p.data[row + c] as number) - max);
      const logZ = max + Math.log(sum);
      for (let c = 0; c < classes; c++) {
        const lp = (p.data[row + c] as number) - logZ;
        logProb[row + c] = lp;
        prob[row + c] = Math.exp(lp);
      }
    } else {
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const v = p.data[row + c] as number;
        if (v < 0 || v > 1) throw new Error(`${fn}: predictions[${i}][${c}] = ${v} is not a probability.`);
        sum += v;
        prob[row + c] = v;
        logProb[row + c] = Math.log(v);
      }
      if (Math.abs(sum - 1) > SUM_TOLERANCE) {
        throw new Error(
          `${fn}: row ${i} of predictions sums to ${sum}, not 1; ` +
            `pass options.input = "logits" for unnormalised scores.`,
        );
      }
    }
  }
  // 2. Per split: exp(mean_x sum_y p (log p - log p(y))).
  const values = new Float64Array(splits);
  const marginal = new Float64Array(classes);
  for (let s = 0; s < splits; s++) {
    const start = Math.floor((s * p.rows) / splits);
    const end = Math.floor(((s + 1) * p.rows) / splits);
    marginal.fill(0);
    for (let i = start; i < end; i++) {
      for (let c = 0; c < classes; c++) marginal[c] = (marginal[c] as number) + (prob[i * classes + c] as number);
    }
    for (let c = 0; c < classes; c++) marginal[c] = Math.log((marginal[c] as number) / (end - start));
    let kl = 0;
    for (let i = start; i < end; i++) {
      let row = 0;
      for (let c = 0; c < classes; c++) {
        const q = prob[i * classes + c] as number;
        if (q > 0) row += q * ((logProb[i * classes + c] as number) - (marginal[c] as number));
      }
      kl += row;
    }
    values[s] = Math.exp(kl / (end - start));
  }
  let mean = 0;
  for (let s = 0; s < splits; s++) mean += values[s] as number;
  mean /= splits;
  let variance = 0;
  for (let s = 0; s < splits; s++) variance += ((values[s] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(variance / splits), values };
}
