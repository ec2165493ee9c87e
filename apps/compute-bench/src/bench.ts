// The bench itself: tfjs on the chosen backend, then PyTorch in a child process, merged into one report.
import os from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { adam, initBackend, type BackendChoice, type BackendName } from "@dale/backend";
import { dataParallel } from "@dale/backend/node";
import { selectKernels, type KernelSet } from "./kernels";
import { benchParamCount, buildBenchModel, netLabel, type BenchNet } from "./models";
import type { Phase } from "./phases";
import { TIMING_DEFAULTS, timeSteps, type Timing } from "./timing";
import { DEFAULT_PYTHON, runTorchBench, type TorchFailure, type TorchReport } from "./torch";

export { PHASES, type Phase } from "./phases";

export interface BenchOptions {
  nets: BenchNet[];
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
  /**
   * Which of Dale's kernels run (`KERNEL_SETS`; default all), for before/after figures. A list times tfjs once per
   * set, one after the other for each net and phase.
   */
  kernels?: KernelSet | KernelSet[];
  /** Adam implementation: Dale's (constants kept on the device; the default) or tfjs' `tf.train.adam`. */
  optimizer?: "dale" | "tfjs";
  /**
   * Extra worker threads for tfjs (data parallelism with `dataParallel` from @dale/backend; the batch is split among
   * the main thread and the workers). Default 0: everything on the main thread. A list times tfjs once per count.
   */
  workers?: number | number[];
  /**
   * Run PyTorch right after tfjs for each net and phase (one `bench_torch.py` per pair), so that both sides of a
   * ratio see the same load on a busy machine. Default true; false runs all of tfjs, then all of PyTorch.
   */
  interleave?: boolean;
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
  net: BenchNet;
  batch: number;
  phase: Phase;
  /** The kernel set and the worker threads of the tfjs measurement. */
  kernels: KernelSet;
  workers: number;
  params: number;
  tfjs: TfjsMeasurement;
  /** By PyTorch configuration name (`cpu-1t`, `cpu-2t`, `cuda-tf32`, `cuda-fp32`). */
  torch: Record<string, TorchCell>;
  /** tfjs ms / torch ms by configuration; null where either side has no figure. */
  ratio: Record<string, number | null>;
}

export interface BenchReport {
  schema: "dale-compute-bench/2";
  date: string;
  entry: string;
  machine: { cpu: string; cores: number; platform: string; arch: string; node: string; memoryGiB: number };
  backend: string;
  backendSkipped: { name: string; reason: string }[];
  tfjsVersion: string;
  /** The wasm backend's build features (Node gets the single-threaded SIMD build). */
  /** On wasm: SIMD, the XNNPACK thread count (`multithread`: more than one), and oneDNN's convolutions when in use. */
  wasm?: { simd: boolean; multithread: boolean; threads?: number; onednn?: string };
  torch:
    | { ok: true; version: string; python: string; defaultThreads: number; cuda: TorchReport["cuda"]; configs: string[] }
    | { ok: false; reason: string; message: string; configs: string[] };
  options: { nets: BenchNet[]; batch: number; phases: Phase[]; threads: number[]; seconds: number; warmup: number; minSteps: number; maxSteps: number; optimizer: "dale" | "tfjs"; kernels: KernelSet[]; workers: number[]; interleave: boolean };
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
 * forward pass is `forward` then reading the sum of the output; the workers use the same `kernels`.
 */
export async function measureTfjs(
  kind: BenchNet,
  phase: Phase,
  batch: number,
  timing: { seconds: number; warmup: number; minSteps: number; maxSteps: number },
  optimizerKind: "dale" | "tfjs" = "dale",
  workers = 0,
  kernels: KernelSet = "dale",
): Promise<TfjsMeasurement> {
  const start = tf.memory().numTensors;
  const probe = buildBenchModel(kind);
  const inputs = probe.inputs(batch);
  const optimizer = phase === "train" ? (optimizerKind === "tfjs" ? tf.train.adam(1e-3) : adam(1e-3)) : null;
  const counts: number[] = [];
  let release = async (): Promise<void> => probe.dispose();
  let result: TfjsMeasurement;
  try {
    let step: () => Promise<void>;
    if (workers > 0) {
      probe.dispose();
      const dp = await dataParallel({ module: shardModuleUrl(), args: { kind, seed: 0, kernels }, workers });
      release = async () => {
        await dp.dispose();
        tf.dispose(dp.vars);
      };
      step =
        optimizer !== null
          ? async () => {
              const { loss, grads } = await dp.lossAndGrads(inputs);
              try {
                // tf.AdamOptimizer types its argument as variables; tf.Optimizer (and minimize) take any tensors.
                (optimizer as tf.Optimizer).applyGradients(grads);
              } finally {
                tf.dispose(grads);
              }
              if (!Number.isFinite(loss)) throw new Error(`the loss is ${loss}`);
            }
          : async () => {
              const y = await dp.forward(inputs);
              try {
                await readAndDispose(tf.tidy(() => tf.sum(y)));
              } finally {
                y.dispose();
              }
            };
    } else {
      const net = probe;
      step =
        optimizer !== null
          ? async () => {
              const cost = optimizer.minimize(() => net.loss(inputs), true, net.vars);
              if (cost === null) throw new Error("the optimiser returned no loss");
              await readAndDispose(cost);
            }
          : () => readAndDispose(tf.tidy(() => tf.sum(net.forward(inputs))));
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
    tf.dispose(inputs);
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

async function wasmFeatures(backend: string, choice: BackendChoice): Promise<BenchReport["wasm"]> {
  if (backend !== "wasm") return undefined;
  try {
    const threads = choice.threads ?? 1;
    return {
      simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
      multithread: threads > 1,
      threads,
      onednn: choice.onednn !== undefined && "version" in choice.onednn ? `${choice.onednn.version}, ${choice.onednn.threads} thread(s)` : "off",
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
  const backend = choice.backend;
  const kernelSets = [options.kernels ?? "dale"].flat();
  const workerCounts = [options.workers ?? 0].flat();
  const interleave = options.interleave ?? true;

  const torchRun = async (nets: BenchNet[], phases: Phase[]): Promise<TorchReport | TorchFailure> => {
    if (!options.torch) return { ok: false, reason: "disabled", message: "--no-torch" };
    log(`[bench] PyTorch: ${options.python ?? DEFAULT_PYTHON} bench_torch.py, ${nets.map(netLabel).join(",")} ${phases.join(",")}, threads ${options.threads.join(",")} ...`);
    const r = await runTorchBench({
      nets,
      batch: options.batch,
      phases,
      threads: options.threads,
      ...timing,
      installTorch: options.installTorch,
      log,
      ...(options.python !== undefined ? { python: options.python } : {}),
      ...(options.torchScript !== undefined ? { script: options.torchScript } : {}),
    });
    if (!r.ok) log(`[bench] PyTorch skipped: ${r.message}`);
    return r;
  };

  // tfjs for each net, phase, kernel set and worker count; PyTorch after each net and phase (or after all of tfjs).
  const tfjs = new Map<string, TfjsMeasurement>();
  const torchRuns = new Map<string, TorchReport | TorchFailure>();
  for (const net of options.nets) {
    for (const phase of options.phases) {
      for (const kernels of kernelSets) {
        // "Before" figures: the backend's own kernels instead of (some of) Dale's.
        selectKernels(backend, kernels);
        for (const workers of workerCounts) {
          const what = `${netLabel(net)} ${phase} batch ${options.batch}, kernels ${kernels}, ${workers} worker thread(s)`;
          log(`[bench] tfjs/${backend}: ${what} ...`);
          const m = await measureTfjs(net, phase, options.batch, timing, options.optimizer ?? "dale", workers, kernels);
          tfjs.set(`${net}/${phase}/${kernels}/${workers}`, m);
          log(
            m.error !== undefined
              ? `[bench] tfjs/${backend}: ${what}: error: ${m.error}`
              : `[bench] tfjs/${backend}: ${what}: ${m.msMedian?.toFixed(2)} ms/step (median of ${m.steps})`,
          );
          if (m.leakedTensors) log(`[bench] warning: ${m.leakedTensors} tensors left after ${what}`);
        }
      }
      selectKernels(backend, "dale");
      if (interleave) torchRuns.set(`${net}/${phase}`, await torchRun([net], [phase]));
    }
  }
  if (!interleave) {
    const all = await torchRun(options.nets, options.phases);
    for (const net of options.nets) for (const phase of options.phases) torchRuns.set(`${net}/${phase}`, all);
  }
  const runs = [...torchRuns.values()];
  const torch = runs.find((r): r is TorchReport => r.ok) ?? runs[0] ?? { ok: false, reason: "disabled", message: "no measurement" };
  const configs = torch.ok ? torch.configs.map((c) => c.name) : [];

  const rows: BenchRow[] = [];
  for (const net of options.nets) {
    for (const phase of options.phases) {
      const run = torchRuns.get(`${net}/${phase}`);
      const params = benchParamCount(net);
      // The two sides must time the same net: a PyTorch twin with another parameter count is an error, not a ratio.
      const torchParams = run?.ok ? run.param_counts[net] : undefined;
      const mismatch = torchParams !== undefined && torchParams !== params ? `PyTorch's ${netLabel(net)} has ${torchParams} parameters, tfjs' ${params}` : null;
      for (const kernels of kernelSets) {
        for (const workers of workerCounts) {
          const t = tfjs.get(`${net}/${phase}/${kernels}/${workers}`) as TfjsMeasurement;
          const row: BenchRow = { net, batch: options.batch, phase, kernels, workers, params, tfjs: t, torch: {}, ratio: {} };
          for (const cfg of configs) {
            const cell: TorchCell = mismatch
              ? { error: mismatch }
              : run?.ok
                ? torchCell(run.results.find((r) => r.net === net && r.phase === phase && r.config === cfg))
                : { error: run?.message ?? "not measured" };
            row.torch[cfg] = cell;
            row.ratio[cfg] = t.msMedian !== undefined && cell.msMedian !== undefined && cell.msMedian > 0 ? t.msMedian / cell.msMedian : null;
          }
          rows.push(row);
        }
      }
    }
  }

  const cpus = os.cpus();
  return {
    schema: "dale-compute-bench/2",
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
    ...(await wasmFeatures(backend, choice).then((w) => (w ? { wasm: w } : {}))),
    torch: torch.ok
      ? { ok: true, version: torch.torch_version, python: torch.python, defaultThreads: torch.default_threads, cuda: torch.cuda, configs }
      : { ok: false, reason: torch.reason, message: torch.message, configs },
    options: {
      nets: options.nets,
      batch: options.batch,
      phases: options.phases,
      threads: options.threads,
      optimizer: options.optimizer ?? "dale",
      kernels: kernelSets,
      workers: workerCounts,
      interleave,
      ...timing,
    },
    rows,
  };
}
