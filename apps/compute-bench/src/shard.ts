// A bench net as a `dataParallel` shard (see @dale/backend): built in the main thread and in every worker from
// dist/shard.js, which is why it is an entry of tsup.config.ts. Each thread first selects the same kernels.
import * as tf from "@tensorflow/tfjs-core";
import { selectKernels, type KernelSet } from "./kernels";
import { buildBenchModel, type BenchNet } from "./models";

export function createShard({ kind, seed, kernels }: { kind: BenchNet; seed?: number; kernels?: KernelSet }) {
  selectKernels(tf.getBackend(), kernels ?? "dale");
  const net = buildBenchModel(kind, seed ?? 0);
  return {
    vars: net.vars,
    loss: (inputs: tf.Tensor[]) => net.loss(inputs),
    forward: (inputs: tf.Tensor[]) => net.forward(inputs),
  };
}
