import * as tf from "@tensorflow/tfjs-core";
import { assertFloat, assertOneOf, assertPositive, uniformArray } from "@dale/sde";
import { checkReduction, reduce, type Reduction } from "./common";

export interface NonNegativeScoreMatchingOptions {
  /**
   * How the diagonal of the Jacobian d psi_i / d x_i is computed. `"exact"`: one backward pass per coordinate (for
   * small dimension). `"hutchinson"`: the unbiased estimate v * (J^T v) with Rademacher probes v (for images).
   * Default `"exact"` up to 64 elements per sample, `"hutchinson"` above.
   */
  estimator?: "exact" | "hutchinson";
  /** Rademacher probes per evaluation for `"hutchinson"`. Default 1. */
  probes?: number;
  /** Seed of the probes; required for `"hutchinson"`. */
  seed?: number;
  /** Default "mean"; anything other than "mean" or "none" throws. */
  reduction?: Reduction;
}

/**
 * Hyvarinen's (2007) score matching for non-negative data, in its implicit form (docs/method.md, section 5): for a model
 * score psi on the positive orthant,
 *
 *     J = E_x || x * grad log p(x) - x * psi(x) ||^2 = 2 E_x sum_i [ 2 x_i psi_i + x_i^2 d psi_i / d x_i + x_i^2 psi_i^2 / 2 ] + C
 *
 * This returns J - C, which needs no knowledge of p. Needs tfjs gradients registered: import `@dale/backend` once.
 * The model must treat samples independently (no batch statistics), since the Jacobian is taken of the batch sum.
 *
 * @param psi the model's Stein score at one noise level, `x -> psi(x)` with x's shape
 * @param x data `[batch, ...]`, strictly positive
 */
export function nonNegativeScoreMatching(
  psi: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  options: NonNegativeScoreMatchingOptions = {},
): tf.Tensor {
  const fn = "nonNegativeScoreMatching";
  const reduction = checkReduction(options.reduction, fn);
  if (options.estimator !== undefined) assertOneOf(options.estimator, ["exact", "hutchinson"], fn, "estimator");
  if (typeof psi !== "function") throw new Error(`${fn}: psi must be a function x => tf.Tensor, got ${typeof psi}.`);
  assertFloat(x, fn, "x");
  assertPositive(x, fn, "x");
  if (tf.getGradient("Multiply") === undefined) {
    throw new Error(`${fn}: tfjs gradients are not registered. Import "@dale/backend" (or "@tensorflow/tfjs") once first.`);
  }
  const d = x.size / (x.shape[0] ?? 1);
  const estimator = options.estimator ?? (d <= 64 ? "exact" : "hutchinson");
  const { probes = 1 } = options;
  if (estimator === "hutchinson") {
    if (options.seed === undefined) throw new Error(`${fn}: the "hutchinson" estimator needs a seed.`);
    if (!Number.isInteger(probes) || probes < 1) throw new Error(`${fn}: probes must be a positive integer, got ${probes}.`);
  }
  return tf.tidy(() => {
    const p = psi(x);
    if (!tf.util.arraysEqual(p.shape, x.shape)) {
      throw new Error(`${fn}: psi(x) must return x's shape [${x.shape}], got [${p.shape}].`);
    }
    const diag = estimator === "exact" ? exactDiagonal(psi, x, d) : hutchinsonDiagonal(psi, x, probes, options.seed as number);
    const x2 = tf.square(x);
    const perElement = tf.mul(2, tf.add(tf.add(tf.mul(2, tf.mul(x, p)), tf.mul(x2, diag)), tf.mul(0.5, tf.mul(x2, tf.square(p)))));
    return reduce(perElement, reduction);
  });
}

/** d psi_i / d x_i for every i, one vector-Jacobian product per coordinate with a one-hot cotangent. */
function exactDiagonal(psi: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, d: number): tf.Tensor {
  const n = x.shape[0] as number;
  const columns: tf.Tensor[] = [];
  for (let i = 0; i < d; i++) {
    const onehot = tf.reshape(tf.oneHot(tf.fill([n], i, "int32"), d), x.shape);
    const jtv = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(psi(z), onehot)))(x);
    columns.push(tf.sum(tf.reshape(tf.mul(jtv, onehot), [n, d]), 1));
  }
  return tf.reshape(tf.stack(columns, 1), x.shape);
}

/** Unbiased estimate of the Jacobian's diagonal: E_v[v * (J^T v)] = diag(J) for Rademacher v. */
function hutchinsonDiagonal(
  psi: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  probes: number,
  seed: number,
): tf.Tensor {
  let acc = tf.zerosLike(x);
  for (let k = 0; k < probes; k++) {
    const v = tf.tensor(Float32Array.from(uniformArray(x.size, seed, k), (u) => (u < 0.5 ? -1 : 1)), x.shape);
    const jtv = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(psi(z), v)))(x);
    acc = tf.add(acc, tf.mul(v, jtv));
  }
  return tf.div(acc, probes);
}
