// A reference net as a `dataParallel` shard (see @dale/backend): built in the main thread and in every worker from
// dist/shard.js, which is why it is an entry of tsup.config.ts.
import type * as tf from "@tensorflow/tfjs-core";
import { buildRefCnn, type RefCnnKind } from "./nets";

export function createShard({ kind, seed }: { kind: RefCnnKind; seed?: number }) {
  const net = buildRefCnn(kind, seed === undefined ? {} : { seed });
  return {
    vars: net.vars as tf.Variable[],
    loss: ([x, t]: tf.Tensor[]) => net.loss(x as tf.Tensor4D, t as tf.Tensor4D),
    forward: ([x]: tf.Tensor[]) => net.forward(x as tf.Tensor4D),
  };
}
