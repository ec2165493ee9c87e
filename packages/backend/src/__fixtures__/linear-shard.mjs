// A tiny shard for parallel.test.ts: y = x W + b, mean squared error against t. Plain JS so workers import it as is.
import { isMainThread } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";

/** @param {{ seed?: number, inputs?: number, outputs?: number, failInWorker?: string }} args */
export function createShard({ seed = 0, inputs = 5, outputs = 3, failInWorker } = {}) {
  const w = tf.tidy(() => tf.variable(tf.randomNormal([inputs, outputs], 0, 1, "float32", seed)));
  const b = tf.tidy(() => tf.variable(tf.randomNormal([outputs], 0, 1, "float32", seed + 1)));
  const forward = ([x]) => tf.tidy(() => tf.add(tf.matMul(x, w), b));
  return {
    vars: [w, b],
    forward,
    loss: ([x, t]) => {
      if (failInWorker !== undefined && !isMainThread) throw new Error(failInWorker);
      return tf.tidy(() => tf.mean(tf.squaredDifference(forward([x]), t)));
    },
  };
}
