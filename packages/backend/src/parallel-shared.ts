// What the main thread and the workers of `dataParallel` share: the shard type and the per-shard computations.
import * as tf from "@tensorflow/tfjs-core";

/** One replica of the model, built by the module's factory in the main thread and in every worker. */
export interface DataParallelShard {
  /** The trainable weights; every replica must list the same shapes in the same order. */
  vars: tf.Variable[];
  /** The mean loss over the batch slice `inputs` (each input sliced along axis 0). */
  loss(inputs: tf.Tensor[]): tf.Scalar;
  /** The model's output for the batch slice `inputs`; needed by `forward`. */
  forward?(inputs: tf.Tensor[]): tf.Tensor;
}

/** A tensor as it crosses a thread boundary. */
export interface WireTensor {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: tf.DataType;
}

/** The loss and the gradients, in the order of `shard.vars`, of one shard on its slice. The caller disposes them. */
export function shardLossAndGrads(shard: DataParallelShard, inputs: tf.Tensor[]): { value: tf.Scalar; grads: tf.Tensor[] } {
  const { value, grads } = tf.variableGrads(() => shard.loss(inputs), shard.vars);
  // A weight the loss does not depend on has no gradient: zeros.
  return { value, grads: shard.vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

export function shardForward(shard: DataParallelShard, inputs: tf.Tensor[]): tf.Tensor {
  if (typeof shard.forward !== "function") throw new Error("dataParallel: the shard has no forward(inputs).");
  return shard.forward(inputs);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
