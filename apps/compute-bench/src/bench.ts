// The bench itself: tfjs on the chosen backend, then PyTorch in a child process, merged into one report.
import os from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { adam, dataParallel, initBackend, unregisterConvGradKernels, type BackendName } from "@dale/backend";
import { REF_CNN_IMAGE, buildRefCnn, refCnnParamCount, type RefCnnKind } from "./nets";
import { TIMING_DEFAULTS, timeSteps, type Timing } from "./timing";
import { DEFAULT_PYTHON, runTorchBench, type TorchFailure, type TorchReport } from "./torch";

/** What is timed: one Adam step on the MSE (forward, backward, update), or the forward pass alone. */
export const PHASES = ["train", "forward"] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  nets: RefCnnKind[];
  batch: number;
  phases: Phase[];
  /** PyTorch CPU thread counts, one configuration each. */
  threads: number[];
  /** Target time of the timed steps of one measurement, in seconds. */
  seconds: number;
  /** Run the PyTorch side. */
  torch: boolean;
  /** `apt-get install -y python3-torch` when torch is not importable. */
  installTorch: boolean;
  /** Interpreter for python/bench_torch.py. Default /usr/bin/python3. */
  python?: string;
  /** Path of bench_torch.py; found next to the package by default. */
  torchScript?: string;
  /** Backend tried first by `initBackend` (DALE_BACKEND still wins). */
  prefer?: BackendName;
  warmup?: number;
  minSteps?: number;
  maxSteps?: number;
  /** Convolution-gradient kernels: Dale's (default) or tfjs' own, for before/after figures. */
  kernels?: "dale" | "tfjs";
  /** Adam implementation: Dale's (constants kept on the device; the default) or tfjs' `tf.train.adam`. */
  optimizer?: "dale" | "tfjs";
  /**
   * Extra worker threads for tfjs (data parallelism with `dataParallel` from @dale/backend; the batch is split among
   * the main thread and the workers). Default 0: everything on the main thread.
   */
  workers?: number;
  /** Which entry point ran the bench (`main`, `gpu`), recorded in the report. */
  entry?: string;
  /** Progress lines. Default: this process's stderr. */
  log?: (line: string) => void;
}

/** One tfjs measurement, or the error that stopped it. */
export interface TfjsMeasurement extends Partial<Timing> {
  /**
   * Tensors left after the measurement and its clean-up, against before it: 0 when nothing leaks. After a failed
   * training step it counts what tfjs' gradient tape saved for the backward pass and never freed.
   */
  leakedTensors?: number;
  /** Change of `tf.memory().numTensors` from the first to the last timed step (0 when steps dispose what they make). */
  tensorGrowth?: number;
  error?: string;
}

export interface TorchCell {
  msMedian?: number;
  msMin?: number;
  msMean?: number;
  steps?: number;
  error?: string;
}

export interface BenchRow {
  net: RefCnnKind;
  batch: number;
  phase: Phase;
  params: number;
  tfjs: TfjsMeasurement;
  /** By PyTorch configuration name (`cpu-1t`, `cpu-2t`, `cuda-tf32`, `cuda-fp32`). */
  torch: Record<string, TorchCell>;
  /** tfjs ms / torch ms by configuration; null where either side has no figure. */
  ratio: Record<string, number | null>;
}

export interface BenchReport {
  schema: "dale-compute-bench/1";
  date: string;
  entry: string;
  machine: { cpu: string; cores: number; platform: string; arch: string; node: string; memoryGiB: number };
  backend: string;
  backendSkipped: { name: string; reason: string }[];
  tfjsVersion: string;
  /** The wasm backend's build features (Node gets the single-threaded SIMD build). */
  wasm?: { simd: boolean; multithread: boolean };
  torch:
    | { ok: true; version: string; python: string; defaultThreads: number; cuda: TorchReport["cuda"]; configs: string[] }
    | { ok: false; reason: string; message: string; configs: string[] };
  options: { nets: RefCnnKind[]; batch: number; phases: Phase[]; threads: number[]; seconds: number; warmup: number; minSteps: number; maxSteps: number; optimizer: "dale" | "tfjs"; kernels?: "dale" | "tfjs"; workers?: number };
  rows: BenchRow[];
}

function errorMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0] ?? m;
}

/**
 * Times one phase of one net on the active tfjs backend. Each step ends by reading a scalar (the loss, or the sum
 * of the forward output), so it returns only when the backend has finished. A failure (e.g. a kernel the backend
 * lacks) comes back as `{ error }`. With `workers` > 0 the batch is split by `dataParallel` (@dale/backend): a
 * training step is `lossAndGrads` then the optimiser's `applyGradients` on the main thread's (master) weights, a
 * forward pass is `forward` then reading the sum of the output.
 */
export async function measureTfjs(
  kind: RefCnnKind,
  phase: Phase,
  batch: number,
  timing: { seconds: number; warmup: number; minSteps: number; maxSteps: number },
  optimizerKind: "dale" | "tfjs" = "dale",
  workers = 0,
): Promise<TfjsMeasurement> {
  const start = tf.memory().numTensors;
  const { height, width, channels } = REF_CNN_IMAGE;
  const x = tf.randomNormal<tf.Rank.R4>([batch, height, width, channels], 0, 1, "float32", 101);
  const target = tf.randomNormal<tf.Rank.R4>([batch, height, width, channels], 0, 1, "float32", 102);
  const optimizer = phase === "train" ? (optimizerKind === "tfjs" ? tf.train.adam(1e-3) : adam(1e-3)) : null;
  const counts: number[] = [];
  let release = async (): Promise<void> => undefined;
  let result: TfjsMeasurement;
  try {
    let step: () => Promise<void>;
    if (workers > 0) {
      const dp = await dataParallel({ module: shardModuleUrl(), args: { kind, seed: 0 }, workers });
      release = async () => {
        await dp.dispose();
        tf.dispose(dp.vars);
      };
      step =
        optimizer !== null
          ? async () => {
              const { loss, grads } = await dp.lossAndGrads([x, target]);
              try {
                // tf.AdamOptimizer types its argument as variables; tf.Optimizer (and minimize) take any tensors.
                (optimizer as tf.Optimizer).applyGradients(grads);
              } finally {
                tf.dispose(grads);
              }
              if (!Number.isFinite(loss)) throw new Error(`the loss is ${loss}`);
            }
          : async () => {
              const y = await dp.forward([x]);
              try {
                await readAndDispose(tf.tidy(() => tf.sum(y)));
              } finally {
                y.dispose();
              }
            };
    } else {
      const net = buildRefCnn(kind);
      release = async () => net.dispose();
      step =
        optimizer !== null
          ? () => readAndDispose(net.lossAndStep(x, target, optimizer))
          : () => readAndDispose(tf.tidy(() => tf.sum(net.forward(x))));
    }
    const t = await timeSteps(async () => {
      await step();
      counts.push(tf.memory().numTensors);
    }, timing);
    const timed = counts.slice(timing.warmup);
    result = { ...t, tensorGrowth: (timed[timed.length - 1] ?? 0) - (timed[0] ?? 0) };
  } catch (e) {
    result = { error: errorMessage(e) };
  } finally {
    optimizer?.dispose();
    await release();
    x.dispose();
    target.dispose();
  }
  return { ...result, leakedTensors: tf.memory().numTensors - start };
}

/** Reads a scalar back (so that an asynchronous backend finishes), then disposes it. */
async function readAndDispose(s: tf.Tensor): Promise<void> {
  try {
    await s.data();
  } finally {
    s.dispose();
  }
}

/** The shard module the workers import: the built dist/shard.js (also when this file runs from source, in tests). */
export function shardModuleUrl(): URL {
  return /\.[cm]?tsx?$/.test(import.meta.url) ? new URL("../dist/shard.js", import.meta.url) : new URL("./shard.js", import.meta.url);
}

function torchCell(m: TorchReport["results"][number] | undefined): TorchCell {
  if (m === undefined) return { error: "not measured" };
  if (m.error !== undefined) return { error: m.error };
  return { msMedian: m.ms_median, msMin: m.ms_min, msMean: m.ms_mean, steps: m.steps };
}

async function wasmFeatures(backend: string): Promise<BenchReport["wasm"]> {
  if (backend !== "wasm") return undefined;
  try {
    return {
      simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
      multithread: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
    };
  } catch {
    return undefined;
  }
}

/**
 * Runs the whole bench: chooses the tfjs backend with `initBackend`, times every net and phase there, then runs
 * python/bench_torch.py for the same nets, phases and timing (unless `torch` is false) and merges both into rows
 * with tfjs / torch ratios. Failed measurements are recorded as errors; only a backend that cannot start throws.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const timing = {
    seconds: options.seconds,
    warmup: options.warmup ?? TIMING_DEFAULTS.warmup,
    minSteps: options.minSteps ?? TIMING_DEFAULTS.minSteps,
    maxSteps: options.maxSteps ?? TIMING_DEFAULTS.maxSteps,
  };
  const choice = await initBackend({ verbose: true, ...(options.prefer ? { prefer: options.prefer } : {}) });
  // "Before" figures: tfjs' own convolution-gradient kernels instead of Dale's.
  if (options.kernels === "tfjs") unregisterConvGradKernels(choice.backend);
  const backend = choice.backend;

  const tfjs = new Map<string, TfjsMeasurement>();
  for (const net of options.nets) {
    for (const phase of options.phases) {
      log(`[bench] tfjs/${backend}: ref-cnn-${net} ${phase} batch ${options.batch}${options.workers ? `, ${options.workers} worker thread(s)` : ""} ...`);
      const m = await measureTfjs(net, phase, options.batch, timing, options.optimizer ?? "dale", options.workers ?? 0);
      tfjs.set(`${net}/${phase}`, m);
      log(
        m.error !== undefined
          ? `[bench] tfjs/${backend}: ref-cnn-${net} ${phase}: error: ${m.error}`
          : `[bench] tfjs/${backend}: ref-cnn-${net} ${phase}: ${m.msMedian?.toFixed(2)} ms/step (median of ${m.steps})`,
      );
      if (m.leakedTensors) log(`[bench] warning: ${m.leakedTensors} tensors left after ref-cnn-${net} ${phase}`);
    }
  }

  let torch: TorchReport | TorchFailure;
  if (options.torch) {
    log(`[bench] PyTorch: ${options.python ?? DEFAULT_PYTHON} bench_torch.py, threads ${options.threads.join(",")} ...`);
    torch = await runTorchBench({
      nets: options.nets,
      batch: options.batch,
      phases: options.phases,
      threads: options.threads,
      ...timing,
      installTorch: options.installTorch,
      log,
      ...(options.python !== undefined ? { python: options.python } : {}),
      ...(options.torchScript !== undefined ? { script: options.torchScript } : {}),
    });
    if (!torch.ok) log(`[bench] PyTorch skipped: ${torch.message}`);
  } else {
    torch = { ok: false, reason: "disabled", message: "--no-torch" };
  }
  const configs = torch.ok ? torch.configs.map((c) => c.name) : [];

  const rows: BenchRow[] = [];
  for (const net of options.nets) {
    for (const phase of options.phases) {
      const t = tfjs.get(`${net}/${phase}`) as TfjsMeasurement;
      const row: BenchRow = { net, batch: options.batch, phase, params: refCnnParamCount(net), tfjs: t, torch: {}, ratio: {} };
      for (const cfg of configs) {
        const cell = torchCell(
          torch.ok ? torch.results.find((r) => r.net === net && r.phase === phase && r.config === cfg) : undefined,
        );
        row.torch[cfg] = cell;
        row.ratio[cfg] = t.msMedian !== undefined && cell.msMedian !== undefined && cell.msMedian > 0 ? t.msMedian / cell.msMedian : null;
      }
      rows.push(row);
    }
  }

  const cpus = os.cpus();
  return {
    schema: "dale-compute-bench/1",
    date: new Date().toISOString(),
    entry: options.entry ?? "main",
    machine: {
      cpu: cpus[0]?.model.trim() ?? "unknown",
      cores: cpus.length,
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      node: process.version,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    },
    backend,
    backendSkipped: choice.skipped,
    tfjsVersion: tf.version_core,
    ...(await wasmFeatures(backend).then((w) => (w ? { wasm: w } : {}))),
    torch: torch.ok
      ? { ok: true, version: torch.torch_version, python: torch.python, defaultThreads: torch.default_threads, cuda: torch.cuda, configs }
      : { ok: false, reason: torch.reason, message: torch.message, configs },
    options: { nets: options.nets, batch: options.batch, phases: options.phases, threads: options.threads, optimizer: options.optimizer ?? "dale", kernels: options.kernels ?? "dale", workers: options.workers ?? 0, ...timing },
    rows,
  };
}
