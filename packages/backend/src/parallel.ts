// Data parallelism over worker threads: one replica of the model per thread, the batch split along axis 0.
import os from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import { BACKENDS, type BackendName } from "./backends";
import { shardForward, shardLossAndGrads, type DataParallelShard, type WireTensor } from "./parallel-shared";

export type { DataParallelShard } from "./parallel-shared";

export interface DataParallelOptions {
  /** An ES module (a file path or a URL) exporting the shard factory; the main thread and every worker import it. */
  module: string | URL;
  /** The factory's export name. Default "createShard". */
  exportName?: string;
  /** Passed to the factory, in every thread; must be structured-cloneable. */
  args?: unknown;
  /** Worker threads besides the main one. Default `os.availableParallelism() - 1` (at least 0). */
  workers?: number;
  /** The worker entry (the ESM build's `parallel-worker.js`). Default: next to this package's built code. */
  workerUrl?: URL;
}

export interface DataParallel {
  /** The main shard's variables: the master weights, which the caller's optimizer updates. */
  vars: tf.Variable[];
  /**
   * The loss and its gradients over the whole batch: every input is split along axis 0 into contiguous slices, one
   * per thread, computed at the same time with the current master weights, and averaged weighted by slice size. The
   * gradients are keyed by the names of `vars` (for `optimizer.applyGradients`); the caller disposes them.
   */
  lossAndGrads(inputs: tf.Tensor[]): Promise<{ loss: number; grads: tf.NamedTensorMap }>;
  /** The shards' `forward` over the slices, concatenated along axis 0. The caller disposes the result. */
  forward(inputs: tf.Tensor[]): Promise<tf.Tensor>;
  /** Terminates the workers. `vars` stay the caller's: dispose them when done (`tf.dispose(dp.vars)`). */
  dispose(): Promise<void>;
}

interface Reply {
  id: number;
  ok: boolean;
  message?: string;
  loss?: number;
  grads?: Float32Array[];
  out?: WireTensor;
}

function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  // Run from source (tests): the built worker. From the CJS build: its twin parallel-worker.cjs.
  if (/\.[cm]?tsx?$/.test(here)) return new URL("../dist/parallel-worker.js", here);
  return new URL(here.endsWith(".cjs") ? "./parallel-worker.cjs" : "./parallel-worker.js", here);
}

function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return /^(file|data|node):/.test(module) ? module : pathToFileURL(resolve(module)).href;
}

/** One worker thread and its pending requests. */
class ShardWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private dead: Error | null = null;
  readonly ready: Promise<void>;

  constructor(url: URL, init: { module: string; exportName: string; args: unknown; prefer: BackendName | undefined }) {
    this.worker = new Worker(url, { workerData: init });
    this.ready = new Promise<void>((res, rej) => this.pending.set(-1, { resolve: () => res(), reject: rej }));
    this.ready.catch(() => undefined); // awaited by dataParallel; a later terminate() must not leave it unhandled
    this.worker.on("message", (r: Reply) => {
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      this.idle();
      if (r.ok) p.resolve(r);
      else p.reject(new Error(r.message ?? "dataParallel: the worker failed."));
    });
    this.worker.on("error", (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    this.worker.on("exit", (code) => this.fail(new Error(`dataParallel: a worker exited (code ${code}).`)));
  }

  private idle(): void {
    // A worker keeps the process alive only while it has work, so a forgotten dispose() does not hang Node.
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  request(msg: { op: "grads" | "forward"; weights: Float32Array[]; inputs: WireTensor[] }): Promise<Reply> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = this.nextId++;
    const transfer = [...msg.weights.map((w) => w.buffer), ...msg.inputs.map((t) => t.data.buffer)] as ArrayBuffer[];
    this.worker.ref();
    const reply = new Promise<Reply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, ...msg }, transfer);
    return reply;
  }

  async terminate(): Promise<void> {
    this.fail(new Error("dataParallel: disposed."));
    await this.worker.terminate();
  }
}

/** Sizes of `parts` nearly equal contiguous slices of `n` rows (larger ones first). */
function sliceSizes(n: number, parts: number): number[] {
  const base = Math.floor(n / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < n % parts ? 1 : 0));
}

async function wire(t: tf.Tensor): Promise<WireTensor> {
  const d = await t.data();
  // A copy of our own: the backend may hand out its storage, and the copy is transferred.
  const data = d instanceof Int32Array ? new Int32Array(d) : d instanceof Uint8Array ? new Uint8Array(d) : new Float32Array(d as Float32Array);
  return { data, shape: t.shape, dtype: t.dtype };
}

/**
 * Runs one model on several threads at once, each on a contiguous slice of the batch (data parallelism). tfjs' wasm
 * backend computes on one thread in Node, so this is how it uses more cores.
 *
 * `options.module` exports `createShard(args)` (sync or async), returning `{ vars, loss(inputs), forward?(inputs) }`.
 * It is built once in this thread (its `vars` are the master weights) and once in every worker, which first sets
 * tfjs up as `import "@dale/backend"` does and runs `initBackend()`. Each call sends the current master weights to
 * the workers, so the caller just optimizes `vars`.
 *
 * @example
 * const dp = await dataParallel({ module: new URL("./shard.js", import.meta.url), args: { seed: 0 } });
 * const opt = adam(1e-3);
 * const { loss, grads } = await dp.lossAndGrads([x, target]);
 * opt.applyGradients(grads);
 * tf.dispose(grads);
 * await dp.dispose();
 * tf.dispose(dp.vars);
 */
export async function dataParallel(options: DataParallelOptions): Promise<DataParallel> {
  const exportName = options.exportName ?? "createShard";
  const href = moduleHref(options.module);
  const nWorkers = Math.max(0, Math.floor(options.workers ?? os.availableParallelism() - 1));
  // Workers try the main thread's backend first, so every replica computes alike.
  const active = tf.getBackend();
  const prefer = (BACKENDS as readonly string[]).includes(active) ? (active as BackendName) : undefined;
  const init = { module: href, exportName, args: options.args, prefer };

  const workers: ShardWorker[] = [];
  for (let i = 0; i < nWorkers; i++) workers.push(new ShardWorker(options.workerUrl ?? defaultWorkerUrl(), init));
  let shard: DataParallelShard;
  try {
    const mod = (await import(/* @vite-ignore */ href)) as Record<string, unknown>;
    const factory = mod[exportName];
    if (typeof factory !== "function") throw new Error(`dataParallel: ${href} has no exported function "${exportName}".`);
    shard = await (factory as (a: unknown) => DataParallelShard | Promise<DataParallelShard>)(options.args);
    await Promise.all(workers.map((w) => w.ready));
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  const vars = shard.vars;
  let disposed = false;

  /** Splits the inputs; starts the workers' slices; returns the main slice and the workers' replies with sizes. */
  async function scatter(inputs: tf.Tensor[], op: "grads" | "forward") {
    if (disposed) throw new Error("dataParallel: used after dispose().");
    if (inputs.length === 0) throw new Error("dataParallel: no inputs.");
    const n = inputs[0]!.shape[0] ?? 0;
    if (inputs.some((t) => t.rank === 0 || t.shape[0] !== n)) {
      throw new Error(`dataParallel: every input needs the same size along axis 0; got ${inputs.map((t) => `[${t.shape.join(", ")}]`).join(", ")}.`);
    }
    const sizes = sliceSizes(n, Math.min(workers.length + 1, Math.max(n, 1)));
    const weights = sizes.length > 1 ? await Promise.all(vars.map((v) => v.data())) : [];
    const remote: { size: number; reply: Promise<Reply> }[] = [];
    let begin = sizes[0]!;
    for (let i = 1; i < sizes.length; i++) {
      const size = sizes[i]!;
      const slices = inputs.map((t) => tf.slice(t, begin, size));
      let msg: { op: "grads" | "forward"; weights: Float32Array[]; inputs: WireTensor[] };
      try {
        msg = { op, weights: weights.map((w) => new Float32Array(w as Float32Array)), inputs: await Promise.all(slices.map(wire)) };
      } finally {
        tf.dispose(slices);
      }
      const reply = workers[i - 1]!.request(msg);
      reply.catch(() => undefined); // handled by the caller's await; avoid an unhandled rejection meanwhile
      remote.push({ size, reply });
      begin += size;
    }
    const local = sizes.length > 1 ? inputs.map((t) => tf.slice(t, 0, sizes[0])) : inputs;
    return { n, mainSize: sizes[0]!, local, remote, owned: sizes.length > 1 };
  }

  /**
   * Scatters `inputs`, computes the main thread's slice with `local`, and waits for every worker; a failure on any
   * thread is rethrown once all have answered. Then `combine` merges the main result with the workers' replies, and
   * `release` frees the main result (also on failure).
   */
  async function sharded<T, R>(
    inputs: tf.Tensor[],
    op: "grads" | "forward",
    local: (x: tf.Tensor[]) => T,
    combine: (main: T, replies: Reply[], split: Awaited<ReturnType<typeof scatter>>) => Promise<R> | R,
    release: (main: T) => void,
  ): Promise<R> {
    const split = await scatter(inputs, op);
    let main: { value: T } | undefined;
    let mainError: unknown;
    try {
      main = { value: local(split.local) };
    } catch (e) {
      mainError = e;
    } finally {
      if (split.owned) tf.dispose(split.local);
    }
    try {
      const replies = await Promise.allSettled(split.remote.map((r) => r.reply));
      if (mainError !== undefined) throw mainError;
      const failed = replies.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return await combine(main!.value, replies.map((r) => (r as PromiseFulfilledResult<Reply>).value), split);
    } finally {
      if (main) release(main.value);
    }
  }

  function lossAndGrads(inputs: tf.Tensor[]): Promise<{ loss: number; grads: tf.NamedTensorMap }> {
    return sharded(
      inputs,
      "grads",
      (x) => shardLossAndGrads(shard, x),
      async (m, ok, { n, mainSize, remote }) => {
        let loss = ((await m.value.data())[0] as number) * (mainSize / n);
        ok.forEach((r, j) => (loss += (r.loss as number) * (remote[j]!.size / n)));
        const grads: tf.NamedTensorMap = {};
        vars.forEach((v, i) => {
          grads[v.name] = tf.tidy(() => {
            let g = remote.length === 0 ? m.grads[i]!.clone() : tf.mul(m.grads[i]!, mainSize / n);
            ok.forEach((r, j) => (g = tf.add(g, tf.mul(tf.tensor(r.grads![i]!, v.shape, "float32"), remote[j]!.size / n))));
            return g;
          });
        });
        return { loss, grads };
      },
      (m) => {
        m.value.dispose();
        tf.dispose(m.grads);
      },
    );
  }

  function forward(inputs: tf.Tensor[]): Promise<tf.Tensor> {
    return sharded(
      inputs,
      "forward",
      (x) => shardForward(shard, x),
      (y, ok) =>
        ok.length === 0
          ? y.clone()
          : tf.tidy(() => tf.concat([y, ...ok.map((r) => tf.tensor(r.out!.data, r.out!.shape, r.out!.dtype))], 0)),
      (y) => y.dispose(),
    );
  }

  return {
    vars,
    lossAndGrads,
    forward,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
