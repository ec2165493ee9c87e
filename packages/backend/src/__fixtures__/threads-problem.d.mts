// Types of threads-problem.mjs (a plain module, so that the child process of src/wasm-threads.test.ts can import it).
import type * as tf from "@tensorflow/tfjs-core";

/** The problem's loss, its gradients (one flat array per variable) and the losses of three tf.train.adam steps. */
export interface ProblemResult {
  loss: number;
  grads: number[][];
  adam: number[];
}

export function problem(t: typeof tf): Promise<ProblemResult>;
