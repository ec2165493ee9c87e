// The worker thread of `dataParallel`: sets tfjs up like `import "@dale/backend"` does, chooses the backend with
// `initBackend`, builds one shard from the caller's module, then answers "grads" and "forward" requests.
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import type { BackendName } from "./backends";
import { initBackend } from "./init";
import { errorText, shardForward, shardLossAndGrads, type DataParallelShard, type WireTensor } from "./parallel-shared";

interface Init {
  module: string;
  exportName: string;
  args: unknown;
  /** The main thread's backend, tried first. */
  prefer?: BackendName;
}
interface Request {
  id: number;
  op: "grads" | "forward";
  weights: Float32Array[];
  inputs: WireTensor[];
}

const port = parentPort;
if (port === null) throw new Error("@dale/backend parallel-worker: must run in a worker thread started by dataParallel.");

async function setup(): Promise<DataParallelShard> {
  const init = workerData as Init;
  // One thread each: the replicas are the parallelism (a threaded backend per replica would oversubscribe the cores).
  await initBackend(init.prefer ? { prefer: init.prefer, threads: 1 } : { threads: 1 });
  const mod = (await import(/* @vite-ignore */ init.module)) as Record<string, unknown>;
  const factory = mod[init.exportName];
  if (typeof factory !== "function") throw new Error(`dataParallel: ${init.module} has no exported function "${init.exportName}".`);
  return (await (factory as (a: unknown) => DataParallelShard | Promise<DataParallelShard>)(init.args));
}

async function handle(shard: DataParallelShard, req: Request): Promise<void> {
  if (req.weights.length !== shard.vars.length) {
    throw new Error(`dataParallel: the worker's shard has ${shard.vars.length} variables, the main one ${req.weights.length}.`);
  }
  shard.vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(req.weights[i] as Float32Array, v.shape, v.dtype))));
  const inputs = req.inputs.map((t) => tf.tensor(t.data, t.shape, t.dtype));
  try {
    if (req.op === "grads") {
      const { value, grads } = shardLossAndGrads(shard, inputs);
      try {
        const loss = (await value.data())[0] as number;
        const out = await Promise.all(grads.map(async (g) => new Float32Array(await g.data())));
        port!.postMessage({ id: req.id, ok: true, loss, grads: out }, out.map((a) => a.buffer));
      } finally {
        value.dispose();
        tf.dispose(grads);
      }
    } else {
      const y = shardForward(shard, inputs);
      try {
        const data = (await y.data()).slice();
        port!.postMessage({ id: req.id, ok: true, out: { data, shape: y.shape, dtype: y.dtype } }, [data.buffer]);
      } finally {
        y.dispose();
      }
    }
  } finally {
    tf.dispose(inputs);
  }
}

const ready = setup();
ready.then(
  () => port.postMessage({ id: -1, ok: true }),
  (e: unknown) => port.postMessage({ id: -1, ok: false, message: errorText(e) }),
);
// Requests are handled one after another: the main thread sends at most one at a time.
let queue: Promise<void> = Promise.resolve();
port.on("message", (req: Request) => {
  queue = queue.then(async () => {
    try {
      await handle(await ready, req);
    } catch (e) {
      port.postMessage({ id: req.id, ok: false, message: errorText(e) });
    }
  });
});
