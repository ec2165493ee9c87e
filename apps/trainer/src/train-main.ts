// dale-train's implementation (the bin is train.ts; the benchmark runs it in its own child processes through
// `runTrain`): trains a score network on an image dataset with M-DSM (GBM) or DSM (VP/VE), with exact resume.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { adam, dataParallel, initBackend, type DataParallel } from "@dale/backend";
import { fail, int, num, oneOf, renderPng, userPath } from "@dale/cli-kit";
import { toTensor } from "@dale/data";
import { Ema, loadCheckpoint, modelVariables, toDenoiser, type ScoreModel } from "@dale/models";
import { fitPrior, gbm, geometricSchedule, noiseCoordinates, normalArray, sdeFromJSON, veSDE, vpSDE, type AnySDE, type SDEJSON } from "@dale/sde";
import cliProgress from "cli-progress";
import { Command } from "commander";
import { lossSpec, type LossRow } from "./chart";
import { DATASETS, extraSchema, formatZodError, PROCESSES, trainConfigSchema, type ModelInit, type TrainConfig, type TrainerExtra } from "./config";
import { BatchOrder, loadTrainingData, trainingBatch, transformFor } from "./data";
import { gridPng } from "./grid";
import { buildModel, PRESET_NAMES, samplerScore } from "./model";
import { DEFAULT_SOLVER, defaultSampler, sampleImages } from "./sampling";
import { provideMainModel, stepLoss, stepTimes, type ShardArgs } from "./shard";
import { acquireRunLock } from "./lock";
import { CheckpointStore } from "./store";

/** Exit code of a run stopped by a non-finite loss. */
export const EXIT_NAN = 2;
/** Images used to fit the GBM prior (the first ones of the training set). */
const PRIOR_FIT_IMAGES = 5000;
/** The most leaked tensors per step tolerated before warning (counts are compared with the first step's). */
const LEAK_TOLERANCE = 0;

class NonFiniteLoss extends Error {}

function command(): Command {
  return new Command("dale-train")
    .description("Trains a Dale score network on an image dataset; writes checkpoints, sample grids, loss.csv and loss.png into --out.")
    .option("--dataset <name>", `one of ${DATASETS.join(", ")}`, oneOf("--dataset", DATASETS), "builtin-mnist")
    .option("--data-dir <dir>", "folder holding mnist/, fashion-mnist/, kmnist/, cifar10/ (default $DALE_DATA_DIR, then the cache)")
    .option("--process <kind>", "gbm (multiplicative), vp or ve (additive baselines)", oneOf("--process", PROCESSES), "gbm")
    .option("--model <preset>", `U-Net preset: ${PRESET_NAMES.join(", ")} (mnistSmall for real runs, tiny for tests)`)
    .option("--model-module <path>", "ES module exporting createModel(config) that returns a ScoreModel (fromFunction from @dale/models)")
    .option("--train-images <n>", "train on the first n images of the training split (default: all; CIFAR-10 then reads only the files it needs)", int("--train-images", 1))
    .option("--gbm-sigma-max <s>", "GBM with a geometric volatility: log-noise std from 0 up to s at T (log space a VE-SDE; default: the reference's constant 0.8)", num("--gbm-sigma-max", (v) => v > 0, "a positive number"))
    .option("--gbm-sigma-min <s>", "the geometric volatility's sigma_min (with --gbm-sigma-max)", num("--gbm-sigma-min", (v) => v > 0, "a positive number"))
    .option("--weighting <kind>", "GBM's M-DSM weighting: reference (v(t)^2, the paper's code) or variance (v(t): plain noise prediction)", oneOf("--weighting", ["reference", "variance"] as const))
    .option("--recipe <kind>", "reference (the paper's: uniform t, lambda = v^2, a noise network) or edm (Karras et al. 2022 in log space for gbm: a preconditioned denoiser, log-normal noise levels, EDM's weighting; with gbm, a geometric volatility up to log-noise std 10)", oneOf("--recipe", ["reference", "edm"] as const), "reference")
    .option("--model-input <kind>", "what a preset U-Net sees: x, or log (log x; GBM only)", oneOf("--model-input", ["x", "log"] as const))
    .option("--steps <n>", "train until this step", int("--steps", 1), 1000)
    .option("--batch <n>", "batch size", int("--batch", 1, 65536), 32)
    .option("--lr <rate>", "Adam learning rate", num("--lr", (v) => v > 0, "a positive number"), 2e-4)
    .option("--ema <decay>", "EMA decay of the weights used for sampling", num("--ema", (v) => v >= 0 && v < 1, "in [0, 1)"), 0.999)
    .option("--seed <n>", "seed of the initial weights, the batch order and every random draw", int("--seed", 0, 2 ** 31 - 1), 0)
    .option("--out <dir>", "output folder", "out/train")
    .option("--resume", "continue from <out>/checkpoint (starts fresh, with a note, when there is none)", false)
    .option("--checkpoint-every <steps>", "save a checkpoint every this many steps (and at the end); 0: only at the end", int("--checkpoint-every", 0), 500)
    .option("--sample-every <steps>", "write samples-<step>.png every this many steps (and at the end); 0: only at the end", int("--sample-every", 0), 0)
    .option("--sample-count <n>", "images per sample grid; 0: no grids", int("--sample-count", 0, 10000), 64)
    .option("--sample-steps <n>", "sampler steps for the grids (default 100; 18 Heun steps, NFE 35, with --recipe edm)", int("--sample-steps", 1, 100000))
    .option("--log-every <steps>", "one log line every this many steps when stderr is not a terminal", int("--log-every", 1), 50)
    .option("--workers <n>", "worker threads that each compute a slice of every batch (data parallelism; presets only); 0: the main thread alone", int("--workers", 0, 256), 0);
}

interface RawOptions {
  dataset: TrainConfig["dataset"];
  dataDir?: string;
  process: TrainConfig["process"];
  model?: string;
  modelModule?: string;
  trainImages?: number;
  gbmSigmaMax?: number;
  gbmSigmaMin?: number;
  weighting?: "reference" | "variance";
  modelInput?: "x" | "log";
  recipe: "reference" | "edm";
  steps: number;
  batch: number;
  lr: number;
  ema: number;
  seed: number;
  out: string;
  resume: boolean;
  checkpointEvery: number;
  sampleEvery: number;
  sampleCount: number;
  sampleSteps?: number;
  logEvery: number;
  workers: number;
}

/** Options that may change on resume; every other one is part of the run's identity. */
const MUTABLE = ["steps", "dataDir", "checkpointEvery", "sampleEvery", "sampleCount", "sampleSteps", "logEvery", "workers"] as const;

function configFrom(raw: RawOptions): TrainConfig {
  const parsed = trainConfigSchema.safeParse({
    dataset: raw.dataset,
    ...(raw.dataDir !== undefined ? { dataDir: userPath(raw.dataDir) } : {}),
    process: raw.process,
    model: raw.modelModule !== undefined ? (raw.model ?? null) : (raw.model ?? "tiny"),
    modelModule: raw.modelModule !== undefined ? userPath(raw.modelModule) : null,
    trainImages: raw.trainImages ?? null,
    gbmSigma: raw.gbmSigmaMax !== undefined ? { min: raw.gbmSigmaMin ?? 0.01, max: raw.gbmSigmaMax } : null,
    weighting: raw.weighting ?? "reference",
    modelInput: raw.modelInput ?? "x",
    recipe: raw.recipe,
    steps: raw.steps,
    batch: raw.batch,
    lr: raw.lr,
    ema: raw.ema,
    seed: raw.seed,
    checkpointEvery: raw.checkpointEvery,
    sampleEvery: raw.sampleEvery,
    sampleCount: raw.sampleCount,
    sampleSteps: raw.sampleSteps ?? (raw.recipe === "edm" ? DEFAULT_SOLVER.steps : 100),
    logEvery: raw.logEvery,
    workers: raw.workers,
  });
  if (!parsed.success) throw new Error(formatZodError(parsed.error, "invalid options"));
  return parsed.data;
}

function readLossCsv(path: string): LossRow[] {
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

/**
 * Runs dale-train with `argv` as process.argv (node, script, then the options). Rejects on bad options, a bad
 * checkpoint, a run folder that another process writes (`<out>/train.lock`, see `acquireRunLock`) or a non-finite
 * loss (see `trainExitCode`). The lock is held from the start to the end of the run, whichever way it ends.
 */
export async function runTrain(argv: readonly string[]): Promise<void> {
  const program = command();
  program.parse([...argv]);
  const raw = program.opts<RawOptions>();
  const given = (name: string) => program.getOptionValueSource(name) === "cli";
  const out = userPath(raw.out);
  await mkdir(out, { recursive: true });
  // One writer per run folder: a second dale-train on this --out stops here, before it reads or writes anything.
  const lock = acquireRunLock(out, { argv, what: "dale-train", tag: "train" });
  try {
    await train(raw, given, out);
  } finally {
    lock.release();
  }
}

/** dale-train's run into `out`, whose lock this process holds. */
async function train(raw: RawOptions, given: (name: string) => boolean, out: string): Promise<void> {
  const store = new CheckpointStore(out);
  const lossCsv = join(out, "loss.csv");
  const { backend } = await initBackend();

  // 1. Configuration: fresh, or the stored one with the mutable options replaced.
  if (raw.gbmSigmaMin !== undefined && raw.gbmSigmaMax === undefined) throw new Error("--gbm-sigma-min needs --gbm-sigma-max.");
  let config = configFrom(raw);
  let resumeDir: string | null = null;
  let stored: TrainerExtra | null = null;
  if (raw.resume) {
    store.cleanStale();
    resumeDir = store.current();
    if (resumeDir === null) console.error(`[train] --resume: no checkpoint in ${out} yet; starting from step 0.`);
    else {
      const manifest = JSON.parse(readFileSync(join(resumeDir, "checkpoint.json"), "utf8")) as { extra?: unknown };
      const parsed = extraSchema.safeParse(manifest.extra);
      if (!parsed.success) throw new Error(formatZodError(parsed.error, `${resumeDir}/checkpoint.json was not written by dale-train`));
      stored = parsed.data;
      // checkpoint.json is data: the module it names is imported only when the command line names it too.
      if (stored.config.modelModule !== null && !given("modelModule")) {
        throw new Error(
          `--resume: this run's network is a function model, i.e. code; dale-train imports a --model-module only when the command line names it, ` +
            `since a run folder from elsewhere could name any file in its checkpoint.json. Check the module and pass --model-module <path> ` +
            `(the checkpoint names ${JSON.stringify(stored.config.modelModule)}).`,
        );
      }
      const merged: Record<string, unknown> = { ...stored.config };
      for (const key of MUTABLE) if (given(key) || key === "steps") merged[key] = config[key];
      for (const key of Object.keys(config) as (keyof TrainConfig)[]) {
        if ((MUTABLE as readonly string[]).includes(key)) continue;
        const cliGiven = key === "gbmSigma" ? given("gbmSigmaMax") || given("gbmSigmaMin") : given(key);
        if (cliGiven && JSON.stringify(config[key]) !== JSON.stringify(stored.config[key])) {
          throw new Error(`--resume: --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${JSON.stringify(config[key])} differs from the checkpoint's ${JSON.stringify(stored.config[key])}; a resumed run keeps its settings.`);
        }
      }
      config = trainConfigSchema.parse(merged);
    }
  } else if (store.current() !== null) {
    throw new Error(`${out} already holds a checkpoint; pass --resume to continue it, or choose another --out.`);
  }

  if (config.workers > 0 && config.modelModule !== null) {
    throw new Error("--workers needs a --model preset: the worker threads rebuild the network from it, which they cannot do for --model-module; use --workers 0.");
  }

  // 2. Data.
  const { dataset, note } = await loadTrainingData(config.dataset, config.dataDir, config.trainImages);
  const transform = transformFor(config.process);
  const order = new BatchOrder(dataset.count, config.batch, config.seed);
  console.error(
    `[train] backend ${backend}; ${config.dataset}: ${dataset.count} images ${dataset.height}x${dataset.width}x${dataset.channels} (${dataset.source}); process ${config.process}; ` +
      `model ${config.modelModule ?? config.model}; batch ${config.batch}; lr ${config.lr}; seed ${config.seed}; out ${out}`,
  );
  if (note) console.error(`[train] note: ${note}`);

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
        console.error(`[train] GBM prior fitted per ${per} on ${n} images: loc ${JSON.stringify(prior.loc)}, scale ${JSON.stringify(prior.scale)}`);
      } else sde = config.process === "vp" ? vpSDE() : veSDE();
      if (config.recipe === "edm") {
        config = { ...config, edm: measureEdm(sde, x) };
        console.error(`[train] EDM recipe: y_0 mean ${config.edm?.mean.toFixed(4)}, sigma_data ${config.edm?.sigmaData.toFixed(4)} on ${n} images; ln sigma ~ N(${config.edm?.pMean.toFixed(3)}, ${config.edm?.pStd}^2)`);
      }
    } finally {
      x.dispose();
    }
  }

  // 4. Model, EMA, optimizer (restored on resume).
  const init: ModelInit = { imageSize: [dataset.height, dataset.width], channels: dataset.channels, seed: config.seed, process: config.process };
  let model: ScoreModel = await buildModel({ preset: config.model, module: config.modelModule, init, input: config.modelInput, edm: config.edm });
  const optimizer = adam(config.lr);
  let ema: Ema;
  let start = 0;
  if (resumeDir) {
    const ckpt = await loadCheckpoint(resumeDir, { model, optimizer });
    model = ckpt.model;
    ema = ckpt.ema ?? new Ema(modelVariables(model), config.ema);
    start = ckpt.step;
    const saved = join(resumeDir, "loss.csv");
    const rows = readLossCsv(saved).filter((r) => r.step <= start);
    writeFileSync(`${lossCsv}.tmp`, `step,loss\n${rows.map((r) => `${r.step},${r.loss}`).join("\n")}${rows.length ? "\n" : ""}`);
    await rename(`${lossCsv}.tmp`, lossCsv);
    console.error(`[train] resumed from ${store.describe()} at step ${start}.`);
  } else {
    ema = new Ema(modelVariables(model), config.ema);
    writeFileSync(lossCsv, "step,loss\n");
  }
  const nParams = model.variables.reduce((a, v) => a + v.size, 0);
  console.error(`[train] ${nParams.toLocaleString("en")} parameters; steps ${start} -> ${config.steps}; ${order.stepsPerEpoch} steps per epoch.`);

  const extraAt = (step: number): TrainerExtra => {
    const pos = order.position(Math.max(1, step + 1));
    return {
      app: "dale-trainer",
      version: 1,
      config,
      sde: sde.toJSON() as unknown as TrainerExtra["sde"],
      transform,
      modelInit: init,
      data: {
        name: config.dataset,
        split: dataset.split,
        count: dataset.count,
        height: dataset.height,
        width: dataset.width,
        channels: dataset.channels,
        source: dataset.source,
        ...(note ? { note } : {}),
      },
      position: { step, epoch: pos.epoch, batchInEpoch: pos.batchInEpoch, stepsPerEpoch: order.stepsPerEpoch },
      lossRows: step,
    };
  };
  let lastCheckpoint: { step: number; path: string } | null = resumeDir ? { step: start, path: store.describe() } : null;
  const save = async (step: number) => {
    await store.save({ model, ema, optimizer, step, extra: extraAt(step) }, lossCsv);
    lastCheckpoint = { step, path: store.describe() };
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
    return path;
  };

  // 5. The loss of one step, a pure function of (weights, seed, step). With --workers, the step's draws (t and the
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
    console.error(`[train] data parallel: the main thread and ${config.workers} worker thread${config.workers === 1 ? "" : "s"}.`);
  }
  const lossAndGrads = async (x0: tf.Tensor, seed: number): Promise<{ loss: number; grads: tf.NamedTensorMap }> => {
    if (dp === null) {
      const { value, grads } = tf.variableGrads(() => lossOf(x0, { seed }), model.variables);
      const loss = (await value.data())[0] as number;
      value.dispose();
      return { loss, grads };
    }
    const t = stepTimes(sde, config, x0.shape[0] as number, seed);
    const noise = tf.tensor(normalArray(x0.size, seed, 0), x0.shape);
    try {
      return await dp.lossAndGrads([x0, t, noise]);
    } finally {
      t.dispose();
      noise.dispose();
    }
  };

  // 6. Progress: a bar on a terminal, else one line every --log-every steps.
  const live = process.stderr.isTTY === true;
  const bar = live
    ? new cliProgress.SingleBar(
        { format: "[train] {bar} {value}/{total} | loss {loss} | {speed} steps/s | ETA {eta_formatted}", stream: process.stderr, hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(config.steps, start, { loss: "-", speed: "-" });
  const t0 = performance.now();
  let window: number[] = [];
  let baseline: number | null = null;
  let warnedLeak = false;

  try {
    for (let step = start + 1; step <= config.steps; step++) {
      // One turn of the event loop per step: on wasm every await resolves as a microtask, so without it a SIGTERM or
      // Ctrl-C (whose handlers release the run lock) would never be handled and the process could not be stopped.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const x0 = trainingBatch(dataset, order, step, transform, config.seed);
      const stepSeed = config.seed * 1_000_003 + step;
      let result: { loss: number; grads: tf.NamedTensorMap };
      try {
        result = await lossAndGrads(x0, stepSeed);
      } finally {
        x0.dispose();
      }
      const { loss, grads } = result;
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        throw new NonFiniteLoss(
          `the loss is not finite (${loss}) at step ${step}; stopping without saving this state. ` +
            (lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint.path} at step ${lastCheckpoint.step}.` : "No checkpoint was written yet."),
        );
      }
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
      ema.update();
      appendFileSync(lossCsv, `${step},${loss}\n`);
      window.push(loss);

      // Tensor count: flat after the first step (Adam's moments are created then); warn once if it grows.
      const count = tf.memory().numTensors;
      if (baseline === null) baseline = count;
      else if (count > baseline + LEAK_TOLERANCE && !warnedLeak) {
        warnedLeak = true;
        bar?.stop();
        console.error(`[train] warning: tensor count grew from ${baseline} to ${count} by step ${step}; something is not disposed.`);
      }

      const elapsed = (performance.now() - t0) / 1000;
      const speed = (step - start) / elapsed;
      if (bar) bar.update(step, { loss: loss.toFixed(4), speed: speed.toFixed(2) });
      else if (step % config.logEvery === 0 || step === config.steps) {
        const mean = window.reduce((a, b) => a + b, 0) / window.length;
        const eta = (config.steps - step) / speed;
        console.error(`[train] step ${step}/${config.steps} loss ${mean.toFixed(4)} (mean of ${window.length}) ${speed.toFixed(2)} steps/s ETA ${formatSeconds(eta)}`);
        window = [];
      }
      if (window.length > 1000) window = window.slice(-1000);

      const last = step === config.steps;
      if (last || (config.checkpointEvery > 0 && step % config.checkpointEvery === 0)) await save(step);
      if (config.sampleCount > 0 && (last || (config.sampleEvery > 0 && step % config.sampleEvery === 0))) {
        const path = await writeSamples(step);
        if (!bar) console.error(`[train] wrote ${path}`);
      }
    }
  } finally {
    bar?.stop();
    await dp?.dispose();
  }
  if (start >= config.steps) console.error(`[train] the checkpoint is already at step ${start} >= --steps ${config.steps}; nothing to train.`);

  const rows = readLossCsv(lossCsv);
  let plot = "";
  if (rows.length > 0) {
    try {
      const png = await renderPng(lossSpec(rows, { title: `dale-train: ${config.dataset}, ${config.process}, ${config.modelModule ? "custom model" : config.model}, batch ${config.batch}` }));
      await writeFile(join(out, "loss.png"), png);
      plot = `; ${join(out, "loss.png")}`;
    } catch (e) {
      // Only the plot is lost (loss.csv has every value): e.g. a bundle without resvg's native binding.
      console.error(`[train] warning: no loss.png (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); loss.csv has the values.`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.error(`[train] done: step ${config.steps} in ${seconds.toFixed(1)} s (${((config.steps - start) / seconds).toFixed(2)} steps/s). Checkpoint ${store.describe()}; ${lossCsv}${plot}.`);
  ema.dispose();
  optimizer.dispose();
}

/** GBM's volatility under the EDM recipe: geometric, log-noise std from 0 to 10 at T (docs/method.md, section 9). */
const EDM_GBM_SIGMA = { min: 0.002, max: 10 };

/**
 * The EDM recipe's constants from training images x (in the SDE's data space): mean and std of y_0 =
 * noiseCoordinates(sde).toY(x, 0), and EDM's ln sigma ~ N(-1.2, 1.2^2) shifted to the data's scale,
 * P_mean = -1.2 + ln(sigma_data / 0.5) (EDM's values are for sigma_data = 0.5).
 */
function measureEdm(sde: AnySDE, x: tf.Tensor): NonNullable<TrainConfig["edm"]> {
  const [mean, std] = tf.tidy(() => {
    const y = noiseCoordinates(sde).toY(x, 0);
    const m = tf.moments(y);
    return [m.mean.dataSync()[0] as number, Math.sqrt(m.variance.dataSync()[0] as number)];
  });
  if (!(std > 0)) throw new Error(`--recipe edm: the training images have no spread in y (std ${std}); cannot precondition.`);
  return { sigmaData: std, mean, pMean: -1.2 + Math.log(std / 0.5), pStd: 1.2 };
}

function trainingBatchAll(dataset: Parameters<typeof toTensor>[0], n: number, transform: ReturnType<typeof transformFor>): tf.Tensor {
  return tf.tidy(() => {
    const x = toTensor(dataset, { indices: Int32Array.from({ length: n }, (_, i) => i) });
    return transform.kind === "positive" ? tf.add(x, transform.shift) : tf.sub(tf.mul(x, 2), 1);
  });
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "-";
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The exit code dale-train ends with after `runTrain` rejected with `e`. */
export function trainExitCode(e: unknown): number {
  return e instanceof NonFiniteLoss ? EXIT_NAN : 1;
}

/** dale-train as a command: `runTrain`, with a failure printed as `[train] error: ...` and turned into the exit code. */
export async function trainCli(argv: readonly string[]): Promise<void> {
  try {
    await runTrain(argv);
  } catch (e) {
    fail("train", e, trainExitCode(e));
  }
}
