import type * as tf from "@tensorflow/tfjs-core";

/**
 * A time: one number for the whole batch, or a 1-D tensor with one time per sample (`[batch]`), which broadcasts
 * over the remaining axes of x. Toy data `[batch, d]` and images `[batch, h, w, c]` share one code path.
 */
export type Time = number | tf.Tensor;
