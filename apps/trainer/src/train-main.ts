// dale-train: a command line over `train` of @dale/training (the bin is train.ts). Options become `train`'s typed
// options (only those given on the command line, and --steps, so that a resumed run keeps the rest); progress is a bar
// on a terminal, else one line every --log-every steps; loss.png is drawn at the end.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fail, int, num, oneOf, renderPng, userPath } from "@dale/cli-kit";
import { DATASETS, NonFiniteLossError, PRESET_NAMES, PROCESSES, readLossCsv, train, type TrainOptions } from "@dale/training";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import { lossSpec } from "./chart";

/** Exit code of a run stopped by a non-finite loss. */
export const EXIT_NAN = 2;

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
    .option("--lr-decay <start:end[:final]>", "decay the learning rate linearly from step start to step end, down to final (default 0) times --lr; none: a constant rate. May be set on resume", lrDecay)
    .option("--ema <decay>", "EMA decay of the weights used for sampling", num("--ema", (v) => v >= 0 && v < 1, "in [0, 1)"), 0.999)
    .option("--ema-warmup", "warm the EMA up: decay min(--ema, (1 + t) / (10 + t)) at update t, so that a short run's average forgets its random start (the default for a fresh run)")
    .option("--no-ema-warmup", "a plain EMA of decay --ema from the first step (what runs from before the warm-up did)")
    .option("--seed <n>", "seed of the initial weights, the batch order and every random draw", int("--seed", 0, 2 ** 31 - 1), 0)
    .option("--out <dir>", "output folder", "out/train")
    .option("--resume", "continue from <out>/checkpoint (starts fresh, with a note, when there is none)", false)
    .option("--checkpoint-every <steps>", "save a checkpoint every this many steps (and at the end); 0: only at the end", int("--checkpoint-every", 0), 500)
    .option("--sample-every <steps>", "write samples-<step>.png every this many steps (and at the end); 0: only at the end", int("--sample-every", 0), 0)
    .option("--sample-count <n>", "images per sample grid; 0: no grids", int("--sample-count", 0, 10000), 64)
    .option("--sample-steps <n>", "sampler steps for the grids (default 100; 18 Heun steps, NFE 35, with --recipe edm)", int("--sample-steps", 1, 100000))
    .option("--log-every <steps>", "one log line every this many steps when stderr is not a terminal", int("--log-every", 1), 50)
    .option("--workers <n>", "worker threads that each compute a slice of every batch (data parallelism; presets only); 0: the main thread alone", int("--workers", 0, 256), 0)
    .option(
      "--micro-batch <n>",
      "compute each batch in slices of at most this many images and sum their gradients (the same step, less memory: tfjs' wasm backend has at most 4 GiB); default: the whole batch at once",
      int("--micro-batch", 1),
    );
}

/**
 * --lr-decay's value: `start:end[:final]` (steps, and a fraction of --lr in [0, 1]), or `none` (kept as the string:
 * commander would turn a parsed null into `true`).
 */
function lrDecay(value: string): { start: number; end: number; final: number } | "none" {
  if (value === "none") return "none";
  const parts = value.split(":");
  const [start, end, final] = [Number(parts[0]), Number(parts[1]), parts.length > 2 ? Number(parts[2]) : 0];
  const steps = (v: number) => parts[0] !== "" && Number.isInteger(v) && v >= 0;
  if ((parts.length !== 2 && parts.length !== 3) || !steps(start) || !steps(end) || !(final >= 0 && final <= 1) || !(end > start)) {
    throw new InvalidArgumentError(`--lr-decay: expected start:end[:final] with whole steps start < end and final in [0, 1] (e.g. 6000:12000:0.05), or none; got "${value}".`);
  }
  return { start, end, final };
}

interface RawOptions {
  dataset: string;
  dataDir?: string;
  process: string;
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
  lrDecay?: { start: number; end: number; final: number } | "none";
  ema: number;
  emaWarmup?: boolean;
  seed: number;
  out: string;
  resume: boolean;
  checkpointEvery: number;
  sampleEvery: number;
  sampleCount: number;
  sampleSteps?: number;
  logEvery: number;
  workers: number;
  microBatch?: number;
}

/** A field of `train`'s options as dale-train names it: its flag. */
function flag(key: string): string {
  if (key === "gbmSigma") return "--gbm-sigma-max";
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * `train`'s options from the command line: the options given there (a resumed run keeps the stored value of every
 * other one) and --steps, whose default (1000) applies on resume too.
 */
function optionsFrom(raw: RawOptions, given: (name: string) => boolean): TrainOptions {
  if (raw.gbmSigmaMin !== undefined && raw.gbmSigmaMax === undefined) throw new Error("--gbm-sigma-min needs --gbm-sigma-max.");
  const options: Record<string, unknown> = { out: userPath(raw.out), resume: raw.resume, steps: raw.steps };
  const plain = ["dataset", "process", "model", "trainImages", "weighting", "modelInput", "recipe", "batch", "lr", "lrDecay", "ema", "emaWarmup", "seed", "checkpointEvery", "sampleEvery", "sampleCount", "sampleSteps", "logEvery", "workers", "microBatch"] as const;
  for (const key of plain) if (given(key)) options[key] = raw[key];
  if (options.lrDecay === "none") options.lrDecay = null;
  if (given("dataDir") && raw.dataDir !== undefined) options.dataDir = userPath(raw.dataDir);
  if (given("modelModule") && raw.modelModule !== undefined) options.modelModule = userPath(raw.modelModule);
  if (raw.gbmSigmaMax !== undefined) options.gbmSigma = { min: raw.gbmSigmaMin ?? 0.01, max: raw.gbmSigmaMax };
  return options as TrainOptions;
}

/**
 * Runs dale-train with `argv` as process.argv (node, script, then the options). Rejects on bad options, a bad
 * checkpoint, a run folder that another process writes (`<out>/train.lock`) or a non-finite loss (see
 * `trainExitCode`).
 */
export async function runTrain(argv: readonly string[]): Promise<void> {
  const program = command();
  program.parse([...argv]);
  const raw = program.opts<RawOptions>();
  const options = optionsFrom(raw, (name) => program.getOptionValueSource(name) === "cli");
  const live = process.stderr.isTTY === true;
  const bar = live
    ? new cliProgress.SingleBar(
        { format: "[train] {bar} {value}/{total} | loss {loss} | {speed} steps/s | ETA {eta_formatted}", stream: process.stderr, hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const log = (message: string) => {
    if (bar?.isActive === true) bar.stop();
    console.error(`[train] ${message}`);
  };
  let logEvery = 50;
  let window: number[] = [];
  const t0 = performance.now();
  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train(options, {
      holder: { what: "dale-train", argv },
      optionName: flag,
      onLog: (message, level) => log(level === "info" ? message : `${level}: ${message}`),
      onStart: ({ config, start }) => {
        logEvery = config.logEvery;
        bar?.start(config.steps, start, { loss: "-", speed: "-" });
      },
      onStep: ({ step, steps, loss, stepsPerSecond }) => {
        window.push(loss);
        if (bar) bar.update(step, { loss: loss.toFixed(4), speed: stepsPerSecond.toFixed(2) });
        else if (step % logEvery === 0 || step === steps) {
          const mean = window.reduce((a, b) => a + b, 0) / window.length;
          console.error(`[train] step ${step}/${steps} loss ${mean.toFixed(4)} (mean of ${window.length}) ${stepsPerSecond.toFixed(2)} steps/s ETA ${formatSeconds((steps - step) / stepsPerSecond)}`);
          window = [];
        }
        if (window.length > 1000) window = window.slice(-1000);
      },
      onSamples: ({ path }) => {
        if (!bar) console.error(`[train] wrote ${path}`);
      },
    });
  } finally {
    bar?.stop();
  }
  const { config, out, lossCsv } = result;
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
  const trained = Math.max(0, config.steps - result.start);
  const speed = trained > 0 ? ` (${(trained / result.seconds).toFixed(2)} steps/s)` : "";
  console.error(`[train] done: step ${Math.max(config.steps, result.start)} in ${seconds.toFixed(1)} s${speed}. Checkpoint ${result.checkpoint}; ${lossCsv}${plot}.`);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "-";
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The exit code dale-train ends with after `runTrain` rejected with `e`. */
export function trainExitCode(e: unknown): number {
  return e instanceof NonFiniteLossError ? EXIT_NAN : 1;
}

/** dale-train as a command: `runTrain`, with a failure printed as `[train] error: ...` and turned into the exit code. */
export async function trainCli(argv: readonly string[]): Promise<void> {
  try {
    await runTrain(argv);
  } catch (e) {
    fail("train", e, trainExitCode(e));
  }
}
