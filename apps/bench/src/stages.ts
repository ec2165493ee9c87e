// The three stages of a benchmark run: prepare (train the models, or take the --models checkpoints; train the feature
// network, embed the real images), sample (generate chunks of images and embed them; --shard splits this stage),
// report (merge every chunk, compute the metrics, write results.json, RESULTS.md-style tables, grids and the FID-NFE
// plot).
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { toTensor, type Dataset } from "@dale/data";
import { checkGuide, gridPng, NonFiniteLossError, openCheckpoint, readTrainerManifest, type OpenCheckpoint, type TrainOptions, type TrainResult } from "@dale/training";
import { guidedProcesses, type RunContext } from "./context";
import { evalImages, INSTRUMENT_SEED, trainImages, type ImageSet } from "./data";
import { pixelSpread } from "./diversity";
import { embed, embedderFor, type Embedder } from "./features";
import { processesOf, type BenchDataset, type BenchProcess, type Chunk, type Profile } from "./plan";
import type { BenchStore } from "./store";
import { readFeatures, writeAtomic, writeFeatures } from "./store";
import { runTrainJob } from "./train-job";

export function presetFor(dataset: BenchDataset, profile: Profile): string {
  return dataset === "cifar10" ? profile.model.color : profile.model.gray;
}

/**
 * Where a model of the run comes from, kept in `<dataset>/models/<process>/bench-train.json`: trained by this run
 * ({@link TrainRecord}), or an existing checkpoint given with `--models` ({@link CheckpointRecord}).
 */
export type ModelRecord = TrainRecord | CheckpointRecord;

/** Budget and wall time of one model's training by this run, kept beside its checkpoint. */
export interface TrainRecord {
  /** Absent in records from before `--models`. */
  source?: "trained";
  preset: string;
  steps: number;
  batch: number;
  lr: number;
  /** dale-train's recipe (absent in records from before recipes: "reference"). */
  recipe?: string;
  /**
   * Seconds of training behind the model's checkpoint: dale-train's `trainSeconds`, over every resume (steps a killed
   * call repeated are not counted). For a checkpoint from before that figure, the seconds of the dale-train call that
   * finished it, plus those of earlier finished calls.
   */
  seconds: number;
  note?: string;
}

/** An existing dale-train checkpoint that a run evaluates (`--models`); its training is not this run's. */
export interface CheckpointRecord {
  source: "checkpoint";
  /** The checkpoint folder (holding checkpoint.json), absolute. */
  checkpoint: string;
  /** Its training step: every chunk must have been sampled from it at this step. */
  step: number;
  /** Whether it holds EMA weights, which the samples then use unless the profile's evalWeights is "raw". */
  ema: boolean;
  /** Its U-Net preset (null for a --model-module network), training recipe and dataset, from its manifest. */
  preset: string | null;
  recipe: string;
  dataset: string;
  batch: number;
  lr: number;
  note?: string;
}

/** The checkpoint folder of a model of the run, and the step it was recorded at. */
export function checkpointOf(store: BenchStore, dataset: BenchDataset, kind: BenchProcess, record: ModelRecord): { dir: string; step: number } {
  return record.source === "checkpoint" ? { dir: record.checkpoint, step: record.step } : { dir: join(store.model(dataset, kind), "checkpoint"), step: record.steps };
}

/**
 * The guide checkpoint of a process (`--guides`): its folder (holding checkpoint.json) and training step, after
 * `checkGuide` of @dale/training has checked that it can guide the run's model (the same process, prior and noise
 * coordinates, and data).
 */
export function guideOf(ctx: Pick<RunContext, "store" | "guides">, dataset: BenchDataset, kind: BenchProcess): { dir: string; step: number } {
  const path = ctx.guides.paths[kind];
  if (path === undefined) throw new Error(`guideOf: the run has no guide for ${kind} (--guides).`);
  let main: ReturnType<typeof readTrainerManifest>;
  let guide: ReturnType<typeof readTrainerManifest>;
  try {
    main = readTrainerManifest(checkpointOf(ctx.store, dataset, kind, readModelRecord(ctx.store, dataset, kind)).dir);
    guide = readTrainerManifest(path);
    checkGuide(main, guide);
  } catch (e) {
    throw new Error(`--guides ${kind}=${path}: ${(e instanceof Error ? e.message : String(e)).replace(/^(readTrainerManifest|checkGuide): /, "")}`);
  }
  if (guide.extra.config.dataset !== main.extra.config.dataset) {
    throw new Error(`--guides ${kind}=${path}: the guide was trained on ${guide.extra.config.dataset}, the ${dataset} model on ${main.extra.config.dataset}.`);
  }
  return { dir: guide.dir, step: guide.extra.position.step };
}

/** Whether the checkpoint folder `dir` holds EMA weights (its checkpoint.json lists them). */
export function checkpointHasEma(dir: string): boolean {
  const manifest = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8")) as { files?: { ema?: unknown } };
  return manifest.files?.ema !== undefined;
}

/** The weights a run samples a checkpoint with: its EMA when `evalWeights` asks for it and the checkpoint has one, else its raw weights. */
export function sampledWeights(evalWeights: Profile["evalWeights"], hasEma: boolean): "ema" | "raw" {
  return evalWeights === "ema" && hasEma ? "ema" : "raw";
}

/** A model's record, or an error that says which stage makes it. */
export function readModelRecord(store: BenchStore, dataset: BenchDataset, kind: BenchProcess): ModelRecord {
  const path = join(store.model(dataset, kind), "bench-train.json");
  if (!existsSync(path)) {
    throw new Error(`${dataset}/${kind} is not prepared yet (${path} is missing); run \`dale-bench --stage prepare\` with the same options first.`);
  }
  return JSON.parse(readFileSync(path, "utf8")) as ModelRecord;
}

/**
 * Records the checkpoint `path` (`--models <kind>=<path>`: a dale-train checkpoint or --out folder, or a dale-export
 * folder) as the run's `kind` model of `dataset`, after checking that it was trained with that process on that
 * dataset. Nothing is trained or copied.
 */
async function useCheckpoint(ctx: RunContext, dataset: BenchDataset, kind: BenchProcess, path: string): Promise<CheckpointRecord> {
  const what = `--models ${kind}=${path}`;
  let manifest: ReturnType<typeof readTrainerManifest>;
  try {
    manifest = readTrainerManifest(path);
  } catch (e) {
    throw new Error(`${what}: ${(e instanceof Error ? e.message : String(e)).replace(/^readTrainerManifest: \S+: /, "")}`);
  }
  const { dir, extra, sde } = manifest;
  if (sde.kind !== kind) throw new Error(`${what}: that checkpoint was trained with the ${sde.kind} process, not ${kind}.`);
  const trainedOn = extra.config.dataset;
  // dale-train's builtin-mnist is a 4000-digit subset of MNIST's training images: its models are MNIST models.
  const subset = dataset === "mnist" && trainedOn === "builtin-mnist";
  if (trainedOn !== dataset && !subset) throw new Error(`${what}: that checkpoint was trained on ${trainedOn}, not ${dataset}.`);
  const stored = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8")) as { step: number; files?: { ema?: unknown } };
  const record: CheckpointRecord = {
    source: "checkpoint",
    checkpoint: dir,
    step: stored.step,
    ema: stored.files?.ema !== undefined,
    preset: extra.config.model,
    recipe: extra.config.recipe,
    dataset: trainedOn,
    batch: extra.config.batch,
    lr: extra.config.lr,
    ...(subset ? { note: `the ${kind} checkpoint was trained on builtin-mnist, dale-train's 4000-digit subset of the MNIST training images.` } : {}),
  };
  await writeAtomic(join(ctx.store.model(dataset, kind), "bench-train.json"), `${JSON.stringify(record, null, 2)}\n`);
  ctx.progress.log(`${dataset}/${kind}: evaluating ${dir} (step ${record.step}${record.ema ? ", EMA weights" : ""}) instead of training`);
  return record;
}

/**
 * Trains (or resumes, or finds finished) one model with `train` of @dale/training, logging to a file: in this thread,
 * or in a worker thread when several models train at the same time (`--jobs`).
 */
async function trainModel(ctx: RunContext, dataset: BenchDataset, kind: BenchProcess): Promise<TrainRecord> {
  const { store, profile } = ctx;
  const out = store.model(dataset, kind);
  const recordPath = join(out, "bench-train.json");
  const before = existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, "utf8")) as ModelRecord) : null;
  if (before?.source === "checkpoint") throw new Error(`${dataset}/${kind} of this run is the checkpoint ${before.checkpoint}; give --models ${kind}=${before.checkpoint} again, or use another --out.`);
  if (before && before.steps >= profile.train.steps) return before;
  const preset = presetFor(dataset, profile);
  const options: TrainOptions = {
    out,
    resume: true,
    dataset,
    process: kind,
    model: preset,
    steps: profile.train.steps,
    batch: profile.train.batch,
    lr: profile.train.lr,
    recipe: profile.train.recipe,
    lrDecay: profile.train.lrDecay,
    ...(profile.train.images !== undefined ? { trainImages: profile.train.images } : {}),
    ema: profile.train.ema,
    emaWarmup: profile.train.emaWarmup,
    seed: ctx.seed,
    checkpointEvery: profile.train.checkpointEvery,
    sampleCount: 0,
    ...(ctx.dataDir !== undefined ? { dataDir: ctx.dataDir } : {}),
  };
  const logPath = store.trainLog(dataset, kind);
  await writeAtomic(logPath, "");
  const task = ctx.progress.task(`train ${dataset}/${kind} (${preset})`, profile.train.steps);
  const t0 = performance.now();
  let result: TrainResult;
  try {
    result = await runTrainJob(options, logPath, { onStep: (step) => task.update(step) }, ctx.jobs > 1);
  } catch (e) {
    const tail = readFileSync(logPath, "utf8").trim().split("\n").slice(-5).join("\n");
    const why = e instanceof NonFiniteLossError ? "a non-finite loss" : "an error";
    throw new Error(`training ${dataset}/${kind} stopped with ${why}: ${e instanceof Error ? e.message : String(e)}\nLast lines of ${logPath}:\n${tail}`);
  } finally {
    task.done();
  }
  appendFileSync(logPath, `done: step ${result.step} in ${result.seconds.toFixed(1)} s; checkpoint ${result.checkpoint}\n`);
  const record: TrainRecord = {
    source: "trained",
    preset,
    steps: profile.train.steps,
    batch: profile.train.batch,
    lr: profile.train.lr,
    recipe: profile.train.recipe,
    // The checkpoint's own training time, over every resume (a killed call's lost steps excluded); older checkpoints
    // lack it, and then this call's time is what is known.
    seconds: result.trainSeconds ?? (before?.seconds ?? 0) + (performance.now() - t0) / 1000,
    ...(result.note !== undefined ? { note: result.note } : {}),
  };
  await writeAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Runs the tasks with at most `limit` of them at a time; the first failure rejects once the running ones end. */
export async function inPool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await (tasks[i] as () => Promise<T>)();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

/** `pixelSpread` of the first `chunk` real images: what a chunk of good samples should show. */
async function realSpread(set: ImageSet, chunk: number): Promise<number | null> {
  const n = Math.min(chunk, set.indices.length);
  if (n < 2) return null;
  const x = toTensor(set.dataset, { indices: set.indices.subarray(0, n) });
  try {
    return pixelSpread((await x.data()) as Float32Array, n);
  } finally {
    x.dispose();
  }
}

/** Embeds the chosen images of a dataset in batches. */
async function embedSet(embedder: Embedder, set: ImageSet, batch = 256): Promise<{ features: Float32Array; probabilities: Float32Array }> {
  const parts: { f: Float32Array; p: Float32Array }[] = [];
  for (let start = 0; start < set.indices.length; start += batch) {
    const x = toTensor(set.dataset, { indices: set.indices.subarray(start, start + batch) });
    try {
      const { features, probabilities } = await embed(embedder, x);
      parts.push({ f: features, p: probabilities });
    } finally {
      x.dispose();
    }
  }
  return { features: concat(parts.map((p) => p.f)), probabilities: concat(parts.map((p) => p.p)) };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Stage 1: the models of every process that the run's samplers serve (trained, or the `--models` checkpoints), the
 * classifier and the real images' features of every dataset. Idempotent and resumable.
 */
export async function prepare(ctx: RunContext): Promise<void> {
  // Every model first, `jobs` at a time: on a GPU one small U-Net leaves most of the device idle (each op's dispatch
  // costs more than its arithmetic), so several trainings side by side finish sooner than one after another.
  await inPool<ModelRecord>(
    ctx.datasets.flatMap((dataset) =>
      processesOf(ctx.profile).map((kind) => {
        const given = ctx.models[kind];
        return given !== undefined ? () => useCheckpoint(ctx, dataset, kind, given) : () => trainModel(ctx, dataset, kind);
      }),
    ),
    ctx.jobs,
  );
  // The guides (--guides): each must be able to guide its process's model, checked before any image is drawn.
  for (const dataset of ctx.datasets) for (const kind of guidedProcesses(ctx)) guideOf(ctx, dataset, kind);
  const embedders = new Slot<Embedder>();
  try {
    for (const dataset of ctx.datasets) {
      // The training images, loaded once and only when the classifier or the floor set needs them.
      let train: Promise<ImageSet> | undefined;
      const trainSet = () => (train ??= trainImages(dataset, ctx.dataDir, ctx.profile.train.images));
      const embedder = await embedders.get(embedderKey(ctx, dataset), () => embedderFor(ctx, dataset, trainSet));
      await writeAtomic(join(ctx.store.root, dataset, "features.txt"), `${embedder.name}\n`);
      const refPath = ctx.store.reference(dataset);
      if (existsSync(refPath)) continue;
      const task = ctx.progress.task(`embed ${dataset} real images`, 2);
      const evalSet = await evalImages(dataset, ctx.profile.evalImages, INSTRUMENT_SEED, ctx.dataDir);
      const ref = await embedSet(embedder, evalSet);
      task.update(1);
      // A second real set of the same size, from the training images: its distance to the evaluation set is the
      // floor any model can reach with this many images.
      const n = evalSet.indices.length;
      const real = await trainSet();
      const m = Math.min(n, real.indices.length);
      const floorSet: ImageSet = { ...real, indices: real.indices.subarray(0, m), description: `the first ${m} ${dataset} ${real.dataset.split} images (training images)` };
      const floor = await embedSet(embedder, floorSet);
      await writeFeatures(refPath.replace(/reference-features/, "train-features"), floor.features, floorSet.indices.length);
      await writeFeatures(refPath.replace(/reference-features/, "train-probabilities"), floor.probabilities, floorSet.indices.length);
      const spread = await realSpread(evalSet, ctx.profile.chunk);
      await writeAtomic(join(dirname(refPath), "reference.json"), `${JSON.stringify({ eval: evalSet.description, floor: floorSet.description, pixelSpread: spread }, null, 2)}\n`);
      await writeFeatures(refPath, ref.features, n);
      task.update(2);
      task.done();
    }
  } finally {
    embedders.dispose();
  }
}

/** What a finished chunk records beside its features. */
export interface ChunkInfo {
  seconds: number;
  count: number;
  seed: number;
  steps: number;
  nfe: number;
  checkpointStep: number;
  /** The weights it was sampled with: the checkpoint's EMA, or its raw weights (absent in chunks from before the choice: EMA). */
  weights?: "ema" | "raw";
  /** The guide of an autoguided row (`--guides`): its checkpoint folder, training step and weight. Absent: unguided. */
  guide?: { checkpoint: string; step: number; weight: number };
  /** Pixel values that came out NaN or infinite (set to 0 before embedding). */
  nonFinite: number;
  /** `pixelSpread` of the chunk's images (in [0, 1]): near 0 when the sampler collapsed to one image. */
  pixelSpread?: number;
}

/** Stage 2: the given chunks (all, or one shard's); chunks already on disk are skipped, so a killed run resumes. */
export async function sampleChunks(ctx: RunContext, chunks: readonly Chunk[]): Promise<{ done: number; skipped: number }> {
  const todo = chunks.filter((c) => !existsSync(ctx.store.chunkInfo(c)));
  const task = ctx.progress.task(`sample ${todo.length} chunks (${chunks.length - todo.length} already done)`, todo.length);
  // The checkpoint of the dataset/process at hand (chunks come grouped by it), and the feature network, which both
  // processes of a dataset share (and, for Inception-v3, every dataset).
  const checkpoints = new Slot<OpenCheckpoint>();
  const guides = new Slot<OpenCheckpoint>();
  const guideFacts = new Map<string, { dir: string; step: number }>();
  const embedders = new Slot<Embedder>();
  try {
    let done = 0;
    for (const chunk of todo) {
      const { dataset, process: kind, sampler, grid, steps, nfe } = chunk.config;
      const ckpt = await checkpoints.get(`${dataset}/${kind}`, async () => {
        const record = readModelRecord(ctx.store, dataset, kind);
        const { dir, step } = checkpointOf(ctx.store, dataset, kind, record);
        const opened = await openCheckpoint(dir);
        // A --models folder may be a training run that has moved on since the prepare stage: its rows would mix steps.
        if (record.source === "checkpoint" && opened.step !== step) {
          opened.dispose();
          throw new Error(`${dir} now holds step ${opened.step}, but the prepare stage recorded step ${step}; run --stage prepare again and delete ${join(ctx.store.root, dataset, "samples")}, or use another --out.`);
        }
        return opened;
      });
      let guide: { checkpoint: OpenCheckpoint; info: NonNullable<ChunkInfo["guide"]> } | undefined;
      if (chunk.config.guided) {
        // Checked once per dataset and process (it reads both manifests), not per chunk.
        const key = `${dataset}/${kind}`;
        if (!guideFacts.has(key)) guideFacts.set(key, guideOf(ctx, dataset, kind));
        const { dir, step } = guideFacts.get(key) as { dir: string; step: number };
        const opened = await guides.get(`${dataset}/${kind}`, () => openCheckpoint(dir));
        // A guide folder that is a training run may have moved on since the prepare stage.
        if (opened.step !== step) throw new Error(`--guides ${kind}: ${dir} now holds step ${opened.step}, not ${step}; give a finished checkpoint.`);
        guide = { checkpoint: opened, info: { checkpoint: dir, step, weight: ctx.guides.weight } };
      }
      const embedder = await embedders.get(embedderKey(ctx, dataset), () => embedderFor(ctx, dataset, null));
      const t0 = performance.now();
      const ema = ctx.profile.evalWeights === "ema";
      const pixels = await ckpt.sample({
        sampler,
        schedule: { steps, grid },
        n: chunk.count,
        batch: chunk.count,
        seed: chunk.seed,
        ema,
        ...(guide ? { guide: { checkpoint: guide.checkpoint, weight: ctx.guides.weight } } : {}),
      });
      const seconds = (performance.now() - t0) / 1000;
      // A diverged sampler leaves NaN: count it, and embed those pixels as 0 so that the metrics still say how bad it is.
      let nonFinite = 0;
      for (let i = 0; i < pixels.length; i++) {
        if (!Number.isFinite(pixels[i] as number)) {
          nonFinite++;
          pixels[i] = 0;
        }
      }
      const { height, width, channels } = ckpt.extra.data;
      const x = tf.tensor4d(pixels, [chunk.count, height, width, channels]);
      let out: { features: Float32Array; probabilities: Float32Array };
      try {
        out = await embed(embedder, x);
      } finally {
        x.dispose();
      }
      if (chunk.index === 0) {
        const n = Math.min(64, chunk.count);
        await writeAtomic(ctx.store.grid(chunk), gridPng(pixels.subarray(0, n * height * width * channels), [n, height, width, channels]));
      }
      await writeFeatures(ctx.store.chunkFeatures(chunk), out.features, chunk.count);
      await writeFeatures(ctx.store.chunkFeatures(chunk).replace(/\.features\.npy$/, ".probabilities.npy"), out.probabilities, chunk.count);
      const spread = chunk.count >= 2 ? pixelSpread(pixels, chunk.count) : undefined;
      const weights = sampledWeights(ctx.profile.evalWeights, ckpt.ema !== undefined);
      const info: ChunkInfo = {
        seconds,
        count: chunk.count,
        seed: chunk.seed,
        steps,
        nfe,
        checkpointStep: ckpt.step,
        weights,
        ...(guide ? { guide: guide.info } : {}),
        nonFinite,
        ...(spread !== undefined ? { pixelSpread: spread } : {}),
      };
      await writeAtomic(ctx.store.chunkInfo(chunk), `${JSON.stringify(info)}\n`); // written last: marks the chunk done
      task.update(++done);
    }
    task.done();
    return { done: todo.length, skipped: chunks.length - todo.length };
  } finally {
    checkpoints.dispose();
    guides.dispose();
    embedders.dispose();
  }
}

/** Which feature network a dataset's images go through: its own classifier, or the one Inception-v3 for all. */
function embedderKey(ctx: RunContext, dataset: BenchDataset): string {
  return ctx.features.kind === "inception" ? "inception" : `classifier:${dataset}`;
}

/** Holds one disposable value for a key: a new key disposes the old value and makes the new one. */
class Slot<T extends { dispose(): void }> {
  private held: { key: string; value: T } | null = null;

  async get(key: string, make: () => Promise<T>): Promise<T> {
    if (this.held?.key === key) return this.held.value;
    this.dispose();
    const value = await make();
    this.held = { key, value };
    return value;
  }

  dispose(): void {
    this.held?.value.dispose();
    this.held = null;
  }
}

/** Reads a dataset's training-image features (the real-vs-real floor). */
export function floorFeatures(ctx: RunContext, dataset: BenchDataset): { features: ReturnType<typeof readFeatures>; probabilities: ReturnType<typeof readFeatures> } {
  const ref = ctx.store.reference(dataset);
  return {
    features: readFeatures(ref.replace(/reference-features/, "train-features")),
    probabilities: readFeatures(ref.replace(/reference-features/, "train-probabilities")),
  };
}

export type { Dataset };
