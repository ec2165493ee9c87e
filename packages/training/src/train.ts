// `train(options, hooks)`: trains a score network on an image dataset with M-DSM (GBM) or DSM (VP/VE), under the
// reference recipe or the EDM recipe (docs/method.md, sections 5 and 9), with exact resume. dale-train is a command
// line over it; the benchmark calls it directly.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { adam, initBackend } from "@dale/backend";
import { dataParallel, type DataParallel } from "@dale/backend/node";
import { toTensor } from "@dale/data";
import { DEFAULT_SOLVER, defaultSampler } from "@dale/samplers";
import { Ema, emaDecayAt, modelVariables, toDenoiser, type ScoreModel } from "@dale/models";
import { loadCheckpoint } from "@dale/models/node";
import { fitPrior, gbm, geometricSchedule, noiseCoordinates, normalArray, sdeFromJSON, veSDE, vpSDE, type AnySDE, type SDEJSON } from "@dale/sde";
import { CheckpointStore } from "./checkpoint-store";
import {
  extraSchema,
  formatZodError,
  learningRateAt,
  MUTABLE_ON_RESUME,
  NOT_INHERITED_ON_RESUME,
  TRAIN_DEFAULTS,
  trainConfigSchema,
  trainOptionsSchema,
  type ModelInit,
  type TrainConfig,
  type TrainerExtra,
  type TrainOptions,
} from "./config";
import { BatchOrder, loadTrainingData, trainingBatch, transformFor } from "./data";
import { checkOptimizerStep, crossCheckManifest, type ManifestFacts } from "./manifest-checks";
import { gridPng } from "./grid-png";
import { inSlices, stepLoss, stepTimes } from "./loss";
import { buildModel, samplerScore } from "./model";
import { acquireRunLock } from "./run-lock";
import { sampleImages } from "./sample-images";
import { provideMainModel, type ShardArgs } from "./shard";

/** Images used to fit the GBM prior (the first ones of the training set). */
const PRIOR_FIT_IMAGES = 5000;

/** GBM's volatility under the EDM recipe: geometric, log-noise std from 0 to 10 at T (docs/method.md, section 9). */
export const EDM_GBM_SIGMA = { min: 0.002, max: 10 };

/** Thrown when a step's loss is not finite: the run stops without saving that state (the last checkpoint is kept). */
export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
}

/** What `onStart` reports once the run is set up, before the first step. */
export interface TrainStart {
  /** The resolved configuration (stored in every checkpoint). */
  config: TrainConfig;
  /** The step the run starts from (0, or the checkpoint's step on resume). */
  start: number;
  /** The checkpoint resumed from (`<out>/checkpoint (-> checkpoints/step-...)`), or null. */
  resumedFrom: string | null;
  parameters: number;
  stepsPerEpoch: number;
  backend: string;
  data: TrainerExtra["data"];
}

/** What `onStep` reports after every optimizer step. */
export interface TrainStep {
  step: number;
  /** The run's target step (`config.steps`). */
  steps: number;
  loss: number;
  /** Steps per second since this call of `train` began. */
  stepsPerSecond: number;
}

/** Callbacks of a run; all optional. `train` prints nothing itself. */
export interface TrainHooks {
  /** Lines describing the run (data, process, prior, parameters, resume), notes and warnings. */
  onLog?: (message: string, level: "info" | "note" | "warning") => void;
  onStart?: (info: TrainStart) => void;
  onStep?: (info: TrainStep) => void;
  /** After a checkpoint is complete on disk: `path` is `<out>/checkpoint (-> checkpoints/step-...)`. */
  onCheckpoint?: (info: { step: number; path: string }) => void;
  /** After a sample grid `samples-<step>.png` is written. */
  onSamples?: (info: { step: number; path: string }) => void;
  /** How an option is named in error messages; dale-train names its flags (default: the field's name). */
  optionName?: (key: string) => string;
  /** Who holds the run lock, as written into `<out>/train.lock` and named in refusals (default "train()", process.argv). */
  holder?: { what: string; argv: readonly string[] };
}

/** What `train` resolves to. */
export interface TrainResult {
  out: string;
  config: TrainConfig;
  /** The step reached (`config.steps`). */
  step: number;
  /** The step the run started from. */
  start: number;
  /** `<out>/checkpoint (-> checkpoints/step-...)`, or "none". */
  checkpoint: string;
  lossCsv: string;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /**
   * Wall-clock seconds of training behind the final checkpoint, over every call that resumed it (the checkpoint's
   * `trainSeconds`); absent when the run resumed a checkpoint from before that figure was kept.
   */
  trainSeconds?: number;
  /** A note about the data (e.g. a subset), also stored in the checkpoint. */
  note?: string;
}

/**
 * Trains a score network; validates `options` with one schema ({@link trainOptionsSchema}), whether they come from a
 * command line, a JSON file or code. A fresh run fills in {@link TRAIN_DEFAULTS}; `resume: true` continues
 * `<out>/checkpoint` byte-identically (every random draw is a function of (seed, step)), taking the stored settings for
 * the fields left out and refusing given ones that differ, except {@link MUTABLE_ON_RESUME}; the settings of the call
 * itself ({@link NOT_INHERITED_ON_RESUME}: threads, sample grids, the data folder) are never read from the checkpoint.
 *
 * The run folder has one writer: `<out>/train.lock` is held from the start to the end (see `acquireRunLock`); a second
 * `train` on the same `out` is refused before it reads or writes anything. Rejects on bad options, a bad checkpoint or
 * a non-finite loss ({@link NonFiniteLossError}); a checkpoint is written every `checkpointEvery` steps and at the end,
 * atomically (`CheckpointStore`).
 *
 * @example
 * import { initBackend } from "@dale/backend";
 * import { train } from "@dale/training";
 * await initBackend();
 * const result = await train({ out: "out/tiny", dataset: "builtin-mnist", process: "gbm", model: "tiny", steps: 20 }, {
 *   onStep: ({ step, loss }) => console.log(step, loss),
 * });
 */
export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const name = hooks.optionName ?? ((k: string) => k);
  const parsed = trainOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(formatZodError(parsed.error, "train: invalid options", name));
  const out = resolve(parsed.data.out);
  await mkdir(out, { recursive: true });
  const holder = hooks.holder ?? { what: "train()", argv: process.argv };
  const note = (m: string) => hooks.onLog?.(m, "note");
  const lock = acquireRunLock(out, { argv: holder.argv, what: holder.what, note });
  try {
    return await run(parsed.data, hooks, out, name);
  } finally {
    lock.release();
  }
}

type Given = ReturnType<typeof trainOptionsSchema.parse>;

/** The sample grids' steps by default: Heun's 18 (NFE 35) for the EDM recipe's denoiser, else 100. */
function defaultSampleSteps(recipe: string): number {
  return recipe === "edm" ? DEFAULT_SOLVER.steps : TRAIN_DEFAULTS.sampleSteps;
}

/** The run's configuration: the given fields over the defaults (fresh) or over the stored configuration (resume). */
function resolveConfig(given: Given, stored: TrainConfig | null, name: (key: string) => string): TrainConfig {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) if (key !== "out" && key !== "resume" && value !== undefined) fields[key] = value;
  if (stored === null) {
    const recipe = (fields.recipe as string | undefined) ?? TRAIN_DEFAULTS.recipe;
    const module = (fields.modelModule as string | null | undefined) ?? null;
    const candidate = {
      ...TRAIN_DEFAULTS,
      model: module !== null ? null : TRAIN_DEFAULTS.model,
      sampleSteps: defaultSampleSteps(recipe),
      ...fields,
    };
    const parsed = trainConfigSchema.safeParse(candidate);
    if (!parsed.success) throw new Error(formatZodError(parsed.error, "train: invalid options", name));
    return parsed.data;
  }
  const merged: Record<string, unknown> = { ...stored };
  for (const key of NOT_INHERITED_ON_RESUME) delete merged[key];
  Object.assign(merged, {
    sampleEvery: TRAIN_DEFAULTS.sampleEvery,
    sampleCount: TRAIN_DEFAULTS.sampleCount,
    sampleSteps: defaultSampleSteps(stored.recipe),
    workers: TRAIN_DEFAULTS.workers,
  });
  for (const [key, value] of Object.entries(fields)) {
    if ((MUTABLE_ON_RESUME as readonly string[]).includes(key)) merged[key] = value;
    else if (JSON.stringify(value) !== JSON.stringify(stored[key as keyof TrainConfig])) {
      throw new Error(`${name(key)} ${JSON.stringify(value)} differs from the checkpoint's ${JSON.stringify(stored[key as keyof TrainConfig])}; a resumed run keeps its settings.`);
    }
  }
  return trainConfigSchema.parse(merged);
}

/** `train`'s run into `out`, whose lock this process holds. */
async function run(given: Given, hooks: TrainHooks, out: string, name: (key: string) => string): Promise<TrainResult> {
  const info = (m: string) => hooks.onLog?.(m, "info");
  const note = (m: string) => hooks.onLog?.(m, "note");
  const store = new CheckpointStore(out);
  const lossCsv = join(out, "loss.csv");
  // With worker threads the replicas are the parallelism: one wasm thread here too, as in each worker (initBackend
  // otherwise runs wasm on every core in Node, which the workers would then oversubscribe).
  const { backend } = await initBackend((given.workers ?? 0) > 0 ? { threads: 1 } : {});

  // 1. Configuration: fresh, or the stored one with the given mutable options replaced.
  let resumeDir: string | null = null;
  let stored: TrainerExtra | null = null;
  if (given.resume === true) {
    store.cleanStale();
    resumeDir = store.current();
    if (resumeDir === null) note(`${name("resume")}: no checkpoint in ${out} yet; starting from step 0.`);
    else {
      const manifestPath = join(resumeDir, "checkpoint.json");
      let manifest: { extra?: unknown } & Partial<ManifestFacts>;
      try {
        manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { extra?: unknown } & Partial<ManifestFacts>;
      } catch (e) {
        throw new Error(`${manifestPath}: cannot read the checkpoint's manifest (${e instanceof Error ? e.message : String(e)}).`);
      }
      if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) throw new Error(`${manifestPath}: the checkpoint's manifest must be a JSON object.`);
      const parsed = extraSchema.safeParse(manifest.extra);
      if (!parsed.success) throw new Error(formatZodError(parsed.error, `${manifestPath} was not written by dale-train`));
      stored = parsed.data;
      crossCheckManifest(resumeDir, manifest as ManifestFacts, stored, { resume: true });
      // checkpoint.json is data: the module it names is imported only when the caller names it too.
      if (stored.config.modelModule !== null && given.modelModule === undefined) {
        throw new Error(
          `${name("resume")}: this run's network is a function model, i.e. code; dale-train imports a ${name("modelModule")} only when the command line names it, ` +
            `since a run folder from elsewhere could name any file in its checkpoint.json. Check the module and pass ${name("modelModule")} <path> ` +
            `(the checkpoint names ${JSON.stringify(stored.config.modelModule)}).`,
        );
      }
    }
  } else if (store.current() !== null) {
    throw new Error(`${out} already holds a checkpoint; pass ${name("resume")} to continue it, or choose another ${name("out")}.`);
  }
  let config = resolveConfig(given, stored?.config ?? null, name);
  if (config.workers > 0 && config.modelModule !== null) {
    throw new Error(`${name("workers")} needs a ${name("model")} preset: the worker threads rebuild the network from it, which they cannot do for ${name("modelModule")}; use ${name("workers")} 0.`);
  }

  // 2. Data.
  const { dataset, note: dataNote } = await loadTrainingData(config.dataset, config.dataDir, config.trainImages);
  const transform = transformFor(config.process);
  const order = new BatchOrder(dataset.count, config.batch, config.seed);
  info(
    `backend ${backend}; ${config.dataset}: ${dataset.count} images ${dataset.height}x${dataset.width}x${dataset.channels} (${dataset.source}); process ${config.process}; ` +
      `model ${config.modelModule ?? config.model}; batch ${config.batch}; lr ${config.lr}; seed ${config.seed}; out ${out}`,
  );
  if (dataNote) note(dataNote);
  if (stored) {
    const was = stored.data;
    const now = { count: dataset.count, height: dataset.height, width: dataset.width, channels: dataset.channels };
    if (was.count !== now.count || was.height !== now.height || was.width !== now.width || was.channels !== now.channels) {
      throw new Error(
        `${name("resume")}: the training data (${now.count} images ${now.height}x${now.width}x${now.channels} of ${config.dataset}) differ from the checkpoint's ` +
          `(${was.count} images ${was.height}x${was.width}x${was.channels}); a resumed run must read the same images in the same order.`,
      );
    }
  }

  // 3. The process (GBM's prior fitted to the data), or the stored one on resume. The EDM recipe's constants are
  // measured on the same images: the mean and std of y_0 in the process's denoising coordinates (log x_0 for GBM).
  let sde: AnySDE;
  if (stored) sde = sdeFromJSON(stored.sde as unknown as SDEJSON);
  else {
    const n = Math.min(dataset.count, PRIOR_FIT_IMAGES);
    const x = trainingBatchAll(dataset, n, transform);
    try {
      if (config.process === "gbm") {
        const per = dataset.channels === 1 ? "all" : "channel";
        const sigma = config.gbmSigma ?? (config.recipe === "edm" ? EDM_GBM_SIGMA : null);
        const process = gbm(sigma ? { sigma: geometricSchedule(sigma.min, sigma.max) } : {});
        const prior = fitPrior(process, x, { per });
        sde = process.withPrior(prior);
        info(`GBM prior fitted per ${per} on ${n} images: loc ${JSON.stringify(prior.loc)}, scale ${JSON.stringify(prior.scale)}`);
      } else sde = config.process === "vp" ? vpSDE() : veSDE();
      if (config.recipe === "edm") {
        const edm = measureEdm(sde, x, name);
        config = { ...config, edm };
        info(`EDM recipe: y_0 mean ${edm.mean.toFixed(4)}, sigma_data ${edm.sigmaData.toFixed(4)} on ${n} images; ln sigma ~ N(${edm.pMean.toFixed(3)}, ${edm.pStd}^2)`);
      }
    } finally {
      x.dispose();
    }
  }

  // 4. Model, EMA, optimizer (restored on resume).
  const init: ModelInit = { imageSize: [dataset.height, dataset.width], channels: dataset.channels, seed: config.seed, process: config.process };
  let model: ScoreModel = await buildModel({ preset: config.model, module: config.modelModule, init, input: config.modelInput, edm: config.edm, note });
  const optimizer = adam(config.lr);
  let ema: Ema;
  let start = 0;
  if (resumeDir) {
    const ckpt = await loadCheckpoint(resumeDir, { model, optimizer });
    checkOptimizerStep(resumeDir, ckpt.step, optimizer.iterations);
    model = ckpt.model;
    ema = ckpt.ema ?? new Ema(modelVariables(model), config.ema);
    start = ckpt.step;
    const rows = readLossCsv(join(resumeDir, "loss.csv")).filter((r) => r.step <= start);
    writeFileSync(`${lossCsv}.tmp`, `step,loss\n${rows.map((r) => `${r.step},${r.loss}`).join("\n")}${rows.length ? "\n" : ""}`);
    await rename(`${lossCsv}.tmp`, lossCsv);
    info(`resumed from ${store.describe()} at step ${start}.`);
  } else {
    ema = new Ema(modelVariables(model), config.ema);
    writeFileSync(lossCsv, "step,loss\n");
  }
  const parameters = model.variables.reduce((a, v) => a + v.size, 0);
  info(`${parameters.toLocaleString("en")} parameters; steps ${start} -> ${config.steps}; ${order.stepsPerEpoch} steps per epoch.`);
  const data: TrainerExtra["data"] = {
    name: config.dataset,
    split: dataset.split,
    count: dataset.count,
    height: dataset.height,
    width: dataset.width,
    channels: dataset.channels,
    source: dataset.source,
    ...(dataNote ? { note: dataNote } : {}),
  };

  // Training time before this call: 0 for a fresh run, the checkpoint's figure on resume (unknown for old checkpoints).
  const secondsBefore = stored === null ? 0 : stored.trainSeconds;
  let loopStart: number | null = null;
  const trainSeconds = () => (secondsBefore === undefined ? undefined : secondsBefore + (loopStart === null ? 0 : (performance.now() - loopStart) / 1000));
  const extraAt = (step: number): TrainerExtra => {
    const pos = order.position(Math.max(1, step + 1));
    const seconds = trainSeconds();
    return {
      app: "dale-trainer",
      version: 1,
      config,
      sde: sde.toJSON() as unknown as TrainerExtra["sde"],
      transform,
      modelInit: init,
      data,
      position: { step, epoch: pos.epoch, batchInEpoch: pos.batchInEpoch, stepsPerEpoch: order.stepsPerEpoch },
      lossRows: step,
      ...(seconds !== undefined ? { trainSeconds: seconds } : {}),
    };
  };
  let lastCheckpoint: { step: number; path: string } | null = resumeDir ? { step: start, path: store.describe() } : null;
  let finalSeconds = secondsBefore;
  const save = async (step: number) => {
    const extra = extraAt(step);
    finalSeconds = extra.trainSeconds;
    await store.save({ model, ema, optimizer, step, extra }, lossCsv);
    lastCheckpoint = { step, path: store.describe() };
    hooks.onCheckpoint?.(lastCheckpoint);
  };
  const score = samplerScore(model, sde);
  const denoiser = model.output === "denoiser" ? toDenoiser(model, sde) : undefined;
  const writeSamples = async (step: number) => {
    const pixels = await ema.apply(() =>
      sampleImages({
        score,
        ...(denoiser ? { denoiser } : {}),
        sde,
        sampler: defaultSampler(sde, model.output),
        schedule: { steps: config.sampleSteps },
        transform,
        shape: [dataset.height, dataset.width, dataset.channels],
        n: config.sampleCount,
        batch: Math.min(config.sampleCount, 64),
        seed: config.seed,
      }),
    );
    const path = join(out, `samples-${step}.png`);
    await writeFile(path, gridPng(pixels, [config.sampleCount, dataset.height, dataset.width, dataset.channels]));
    hooks.onSamples?.({ step, path });
  };

  // 5. The loss of one step, a pure function of (weights, seed, step). With `workers`, the step's draws (t and the
  // noise, the same ones the loss draws from the seed) are made here once and the batch is split across the threads.
  const lossOf = stepLoss(model, sde, config);
  let dp: DataParallel | null = null;
  if (config.workers > 0 && start < config.steps) {
    const args: ShardArgs = {
      preset: config.model as string,
      init,
      sde: sde.toJSON() as unknown as SDEJSON,
      recipe: { recipe: config.recipe, weighting: config.weighting, edm: config.edm },
      input: config.modelInput,
    };
    provideMainModel(model);
    try {
      dp = await dataParallel({ module: new URL("./shard.js", import.meta.url), args, workers: config.workers });
    } finally {
      provideMainModel(null);
    }
    info(`data parallel: the main thread and ${config.workers} worker thread${config.workers === 1 ? "" : "s"}.`);
  }
  // One pass over a slice of the batch, with the slice's times and noise (the data-parallel shards', or this thread's).
  const passOf = async (x0: tf.Tensor, t: tf.Tensor, noise: tf.Tensor): Promise<{ loss: number; grads: tf.NamedTensorMap }> => {
    if (dp !== null) return dp.lossAndGrads([x0, t, noise]);
    const { value, grads } = tf.variableGrads(() => lossOf(x0, { t, noise }), model.variables);
    const loss = (await value.data())[0] as number;
    value.dispose();
    return { loss, grads };
  };
  const lossAndGrads = async (x0: tf.Tensor, seed: number): Promise<{ loss: number; grads: tf.NamedTensorMap }> => {
    const n = x0.shape[0] as number;
    const micro = config.microBatch !== null && config.microBatch < n ? config.microBatch : null;
    if (dp === null && micro === null) {
      const { value, grads } = tf.variableGrads(() => lossOf(x0, { seed }), model.variables);
      const loss = (await value.data())[0] as number;
      value.dispose();
      return { loss, grads };
    }
    // The step's draws, made once for the whole batch (the ones the loss would draw from the seed), then sliced.
    const t = stepTimes(sde, config, n, seed);
    const noise = tf.tensor(normalArray(x0.size, seed, 0), x0.shape);
    try {
      if (micro === null) return await passOf(x0, t, noise);
      return await inSlices([x0, t, noise], micro, ([xs, ts, ns]) => passOf(xs as tf.Tensor, ts as tf.Tensor, ns as tf.Tensor));
    } finally {
      t.dispose();
      noise.dispose();
    }
  };

  hooks.onStart?.({ config, start, resumedFrom: resumeDir ? store.describe() : null, parameters, stepsPerEpoch: order.stepsPerEpoch, backend, data });
  const t0 = performance.now();
  loopStart = t0;
  let baseline: number | null = null;
  let warnedLeak = false;
  try {
    for (let step = start + 1; step <= config.steps; step++) {
      // One turn of the event loop per step: on wasm every await resolves as a microtask, so without it a SIGTERM or
      // Ctrl-C (whose handlers release the run lock) would never be handled and the process could not be stopped.
      await new Promise<void>((r) => setImmediate(r));
      const x0 = trainingBatch(dataset, order, step, transform, config.seed);
      const stepSeed = config.seed * 1_000_003 + step;
      let result: { loss: number; grads: tf.NamedTensorMap };
      try {
        result = await lossAndGrads(x0, stepSeed);
      } catch (e) {
        throw wasmMemoryError(e, tf.getBackend(), step, config.batch, config.microBatch);
      } finally {
        x0.dispose();
      }
      const { loss, grads } = result;
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        throw new NonFiniteLossError(
          `the loss is not finite (${loss}) at step ${step}; stopping without saving this state. ` +
            (lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint.path} at step ${lastCheckpoint.step}.` : "No checkpoint was written yet."),
        );
      }
      optimizer.setLearningRate(learningRateAt(config.lr, config.lrDecay, step));
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
      // Step `step` is the EMA's update number step - 1 (0 for the first), also after a resume.
      ema.update(emaDecayAt(config.ema, config.emaWarmup, step - 1));
      appendFileSync(lossCsv, `${step},${loss}\n`);

      // Tensor count: flat after the first step (Adam's moments are created then); warn once if it grows.
      const count = tf.memory().numTensors;
      if (baseline === null) baseline = count;
      else if (count > baseline && !warnedLeak) {
        warnedLeak = true;
        hooks.onLog?.(`tensor count grew from ${baseline} to ${count} by step ${step}; something is not disposed.`, "warning");
      }
      hooks.onStep?.({ step, steps: config.steps, loss, stepsPerSecond: (step - start) / ((performance.now() - t0) / 1000) });

      const last = step === config.steps;
      if (last || (config.checkpointEvery > 0 && step % config.checkpointEvery === 0)) await save(step);
      if (config.sampleCount > 0 && (last || (config.sampleEvery > 0 && step % config.sampleEvery === 0))) await writeSamples(step);
    }
  } finally {
    await dp?.dispose();
  }
  if (start >= config.steps) info(`the checkpoint is already at step ${start} >= steps ${config.steps}; nothing to train.`);
  ema.dispose();
  optimizer.dispose();
  for (const v of model.variables) v.dispose();
  return {
    out,
    config,
    step: Math.max(start, config.steps),
    start,
    checkpoint: store.describe(),
    lossCsv,
    seconds: (performance.now() - t0) / 1000,
    ...(finalSeconds !== undefined ? { trainSeconds: finalSeconds } : {}),
    ...(dataNote ? { note: dataNote } : {}),
  };
}

/** The messages with which tfjs' wasm backend (and the engine under it) reports that its heap is exhausted. */
const WASM_MEMORY_MESSAGES = /^Aborted\(|memory access out of bounds|out of memory|Cannot enlarge memory|Array buffer allocation failed/i;

/**
 * A training step's error `e`, explained when it is the wasm backend running out of memory: its heap holds at most
 * 4 GiB (wasm32), and a large batch's activations, kept for the backward pass, exceed it. The explanation names the
 * batch and suggests `microBatch`. Any other error is returned as it is.
 */
export function wasmMemoryError(e: unknown, backend: string, step: number, batch: number, microBatch: number | null): unknown {
  const message = e instanceof Error ? e.message : String(e);
  if (backend !== "wasm" || !WASM_MEMORY_MESSAGES.test(message)) return e;
  const slice = microBatch !== null && microBatch < batch ? microBatch : batch;
  const suggest = Math.max(1, Math.floor(slice / 2));
  return new Error(
    `train: step ${step} failed on tfjs' wasm backend with "${message}": the backend's memory (at most 4 GiB) ran out, ` +
      `${slice === batch ? `a batch of ${batch} images at once` : `micro-batches of ${slice} images`} being too many for this network. ` +
      `Set microBatch (dale-train --micro-batch ${suggest}) to compute each batch of ${batch} in slices of ${suggest}: the same gradients, less memory.`,
    { cause: e },
  );
}

/**
 * The EDM recipe's constants from training images x (in the SDE's data space): mean and std of y_0 =
 * noiseCoordinates(sde).toY(x, 0), and EDM's ln sigma ~ N(-1.2, 1.2^2) shifted to the data's scale,
 * P_mean = -1.2 + ln(sigma_data / 0.5) (EDM's values are for sigma_data = 0.5).
 */
export function measureEdm(sde: AnySDE, x: tf.Tensor, name: (key: string) => string = (k) => k): NonNullable<TrainConfig["edm"]> {
  const [mean, std] = tf.tidy(() => {
    const y = noiseCoordinates(sde).toY(x, 0);
    const m = tf.moments(y);
    return [m.mean.dataSync()[0] as number, Math.sqrt(m.variance.dataSync()[0] as number)];
  });
  if (!(std > 0)) throw new Error(`${name("recipe")} edm: the training images have no spread in y (std ${std}); cannot precondition.`);
  return { sigmaData: std, mean, pMean: -1.2 + Math.log(std / 0.5), pStd: 1.2 };
}

function trainingBatchAll(dataset: Parameters<typeof toTensor>[0], n: number, transform: ReturnType<typeof transformFor>): tf.Tensor {
  return tf.tidy(() => {
    const x = toTensor(dataset, { indices: Int32Array.from({ length: n }, (_, i) => i) });
    return transform.kind === "positive" ? tf.add(x, transform.shift) : tf.sub(tf.mul(x, 2), 1);
  });
}

/** A loss.csv row. */
export interface LossRow {
  step: number;
  loss: number;
}

/** The rows of a run's `loss.csv` (none when the file is absent). */
export function readLossCsv(path: string): LossRow[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [step, loss] = l.split(",");
      return { step: Number(step), loss: Number(loss) };
    });
}
