import * as tf from "@tensorflow/tfjs-core";

/**
 * A matrix of feature rows, `[rows, dim]`: either a 2-D tensor (read once with `dataSync`, the caller keeps and
 * disposes it) or row-major host data with its row count, `{ data, rows }`, where `data.length = rows * dim`.
 * Float32 features (what a network gives) are widened to float64 exactly; all the arithmetic is float64.
 *
 * @example
 * const a: FeatureMatrix = tf.randomNormal([500, 64]) as tf.Tensor2D;
 * const b: FeatureMatrix = { data: new Float32Array(500 * 64), rows: 500 };
 */
export type FeatureMatrix = tf.Tensor2D | HostFeatureMatrix;

/** Row-major host features: row `i` is `data.subarray(i * dim, (i + 1) * dim)` with `dim = data.length / rows`. */
export interface HostFeatureMatrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
}

/** A validated feature matrix: finite values, at least one row and one column. */
export interface CheckedMatrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Validates a {@link FeatureMatrix} for function `fn`, naming the argument `arg` in every error: a rank-2 tensor or
 * `{ data, rows }` with a positive integer row count dividing `data.length`, and no NaN or infinity.
 */
export function checkMatrix(x: FeatureMatrix, arg: string, fn: string): CheckedMatrix {
  let data: Float32Array | Float64Array;
  let rows: number;
  let cols: number;
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) throw new Error(`${fn}: ${arg} is a disposed tensor.`);
    if (x.rank !== 2) {
      throw new Error(`${fn}: ${arg} must be a 2-D tensor [rows, dim], got rank ${x.rank} (shape [${x.shape}]).`);
    }
    if (x.dtype !== "float32" && x.dtype !== "int32") {
      throw new Error(`${fn}: ${arg} must be a float32 tensor, got dtype ${x.dtype}.`);
    }
    [rows, cols] = x.shape as [number, number];
    const values = x.dataSync();
    data = values instanceof Float32Array ? values : Float64Array.from(values);
  } else {
    if (typeof x !== "object" || x === null || !("data" in x) || !("rows" in x)) {
      throw new Error(`${fn}: ${arg} must be a 2-D tf.Tensor or { data: Float32Array | Float64Array, rows }.`);
    }
    if (!(x.data instanceof Float32Array) && !(x.data instanceof Float64Array)) {
      throw new Error(`${fn}: ${arg}.data must be a Float32Array or a Float64Array.`);
    }
    if (!Number.isInteger(x.rows) || x.rows < 1) {
      throw new Error(`${fn}: ${arg}.rows must be a positive integer, got ${x.rows}.`);
    }
    data = x.data;
    rows = x.rows;
    if (data.length % rows !== 0) {
      throw new Error(
        `${fn}: ${arg}.data has ${data.length} values, which is not divisible by ${arg}.rows = ${rows} ` +
          `(expected rows * dim values, row-major).`,
      );
    }
    cols = data.length / rows;
  }
  if (rows < 1 || cols < 1) throw new Error(`${fn}: ${arg} is empty (shape [${rows}, ${cols}]).`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i] as number)) {
      const r = Math.floor(i / cols);
      throw new Error(`${fn}: ${arg} has a non-finite value (${data[i]}) at row ${r}, column ${i - r * cols}.`);
    }
  }
  return { data, rows, cols };
}

/** Checks that two matrices hold rows of the same length. */
export function checkSameDim(a: CheckedMatrix, b: CheckedMatrix, argA: string, argB: string, fn: string): void {
  if (a.cols !== b.cols) {
    throw new Error(
      `${fn}: ${argA} has rows of ${a.cols} features but ${argB} has ${b.cols}; ` +
        `both must come from the same extractor.`,
    );
  }
}

/** Rows `[start, end)` of a checked matrix as a new row-major Float64Array (exact for float32 input). */
export function rowsFloat64(m: CheckedMatrix, start = 0, end = m.rows): Float64Array {
  return Float64Array.from(m.data.subarray(start * m.cols, end * m.cols));
}

/** The rows `index[0], index[1], ...` of a checked matrix, gathered into a new row-major Float64Array. */
export function gatherFloat64(m: CheckedMatrix, index: ArrayLike<number>): Float64Array {
  const out = new Float64Array(index.length * m.cols);
  for (let r = 0; r < index.length; r++) {
    const src = (index[r] as number) * m.cols;
    for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = m.data[src + c] as number;
  }
  return out;
}

/** Checks an optional positive-integer option. */
export function positiveInt(value: number | undefined, fallback: number, name: string, fn: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${value}.`);
  return v;
}
