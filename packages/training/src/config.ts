import { z } from "zod";
import { checkSamplerChoice, type SamplerChoice } from "@dale/samplers";

/** The datasets `dale-train` reads: the four of `@dale/data` and the 4000-digit subset shipped inside it. */
export const DATASETS = ["mnist", "fashion-mnist", "kmnist", "cifar10", "builtin-mnist"] as const;
export const PROCESSES = ["gbm", "vp", "ve"] as const;
export type DatasetChoice = (typeof DATASETS)[number];
export type ProcessName = (typeof PROCESSES)[number];

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

/**
 * Everything that determines a training run's result. It is stored in the checkpoint, so that `--resume` continues the
 * same run; `steps` (the target) and the output/logging settings may change on resume.
 */
const trainConfigFields = z
  .object({
    dataset: z.enum(DATASETS),
    dataDir: z.string().optional(),
    process: z.enum(PROCESSES),
    /** A `unetPresets` name, or null when `modelModule` builds the network. */
    model: z.string().nullable(),
    /** Absolute path of the user's ES module exporting `createModel(config)`. */
    modelModule: z.string().nullable(),
    /** Train on the first this many images of the training split; null: all of them. */
    trainImages: posInt.nullable().default(null),
    /** GBM's volatility: null for the reference (constant 0.8); otherwise geometric from min to max (log space a VE-SDE). */
    gbmSigma: z.object({ min: z.number().positive(), max: z.number().positive() }).strict().nullable().default(null),
    /** The M-DSM weighting: "reference" lambda = v(t)^2 (the paper's code), "variance" lambda = v(t) (unweighted noise prediction). */
    weighting: z.enum(["reference", "variance"]).default("reference"),
    /** What a preset U-Net's first convolution sees: x, or log x (GBM only). */
    modelInput: z.enum(["x", "log"]).default("x"),
    /**
     * The training recipe. "reference": the paper's code (uniform t, the process's own schedule, M-DSM with
     * lambda = v^2 for GBM, DSM with lambda = b^2 for VP/VE, a noise-predicting network). "edm": Karras et al. 2022
     * in the process's denoising coordinates (log space for GBM): a preconditioned denoiser network, log-normal noise
     * levels, EDM's weighting (docs/method.md, section 9).
     */
    recipe: z.enum(["reference", "edm"]).default("reference"),
    /**
     * The EDM recipe's constants, measured on the training data when a run starts (null for "reference"): the std and
     * mean of y_0 (log x_0 for GBM) and EDM's log-normal noise-level distribution, ln sigma ~ N(pMean, pStd^2).
     */
    edm: z
      .object({ sigmaData: z.number().positive().finite(), mean: z.number().finite(), pMean: z.number().finite(), pStd: z.number().positive().finite() })
      .strict()
      .nullable()
      .default(null),
    steps: posInt,
    batch: posInt,
    lr: z.number().positive().finite(),
    /**
     * A linear learning-rate decay; null keeps `lr` constant. The rate is `lr` up to step `start`, falls linearly to
     * `lr * final` at step `end`, and stays there ({@link learningRateAt}). It may be set or changed on resume: decaying
     * a run whose loss has flattened is what it is for.
     */
    lrDecay: z
      .object({ start: nonNegInt, end: posInt, final: z.number().min(0).max(1) })
      .strict()
      .nullable()
      .default(null),
    ema: z.number().min(0).lt(1),
    /**
     * Warm the EMA up: decay min(ema, (1 + t) / (10 + t)) at update t (`emaDecayAt` of @dale/models) instead of `ema`
     * from the first step, so that a short run's average does not keep its random initialisation. On for fresh runs
     * ({@link TRAIN_DEFAULTS}); a checkpoint from before it existed has no value and reads as off, so it resumes as it
     * was trained.
     */
    emaWarmup: z.boolean().default(false),
    seed: nonNegInt.max(2 ** 31 - 1),
    checkpointEvery: nonNegInt,
    sampleEvery: nonNegInt,
    /** Images per sample grid; 0 writes no grids. */
    sampleCount: nonNegInt,
    sampleSteps: posInt,
    logEvery: posInt,
    /** Worker threads computing slices of each batch (--workers); 0: the main thread alone. May change on resume. */
    workers: nonNegInt.default(0),
    /**
     * Images per forward and backward pass (--micro-batch): each batch of `batch` images is computed in slices of at
     * most this many, whose gradients are summed weighted by their size, which is the whole batch's gradient (the loss
     * is a mean). It bounds the memory of a step, as diffusers' gradient accumulation does: tfjs' wasm backend has a
     * 4 GiB heap, which a batch of 128 28x28 images through the mnistSmall U-Net exceeds. null: the whole batch at
     * once. A setting of the call, like `workers`: it may change on resume.
     */
    microBatch: posInt.nullable().default(null),
  })
  .strict();

export const trainConfigSchema = trainConfigFields
  .refine((c) => (c.model === null) !== (c.modelModule === null), { message: "give exactly one of --model and --model-module" })
  .refine((c) => c.process === "gbm" || (c.gbmSigma === null && c.weighting === "reference" && c.modelInput === "x"), {
    message: "--gbm-sigma-max, --weighting and --model-input log apply to --process gbm",
  })
  .refine((c) => c.modelInput === "x" || c.modelModule === null, { message: "--model-input shapes a --model preset; a --model-module network sees what it chooses" })
  .refine((c) => c.lrDecay === null || c.lrDecay.end > c.lrDecay.start, { message: "--lr-decay: its end step must be after its start step" })
  .refine((c) => c.gbmSigma === null || c.gbmSigma.max > c.gbmSigma.min, { message: "--gbm-sigma-max must exceed --gbm-sigma-min" })
  .refine((c) => c.recipe === "reference" || (c.weighting === "reference" && c.modelInput === "x"), {
    message: "--recipe edm sets its own weighting and network input; leave out --weighting and --model-input",
  })
  .refine((c) => c.recipe === "reference" || c.modelModule === null, {
    message: "--recipe edm preconditions a --model preset; a --model-module network would have to declare output \"denoiser\" itself, which dale-train does not check yet",
  });
export type TrainConfig = z.infer<typeof trainConfigSchema>;

/**
 * What `train` takes: the run folder `out`, `resume`, and any of {@link TrainConfig}'s fields except the measured
 * `edm`. A field left out gets its default on a fresh run ({@link TRAIN_DEFAULTS}) and the checkpoint's value on
 * resume; a field given on resume must equal the checkpoint's, except the ones in {@link MUTABLE_ON_RESUME}.
 */
export const trainOptionsSchema = trainConfigFields
  .omit({ edm: true })
  .partial()
  .extend({
    /** The run folder: checkpoints, loss.csv, sample grids and the one-writer lock `train.lock`. */
    out: z.string().min(1),
    /** Continue from `<out>/checkpoint` (start fresh, with a note, when there is none). Default false. */
    resume: z.boolean().optional(),
  })
  .strict();
export type TrainOptions = z.input<typeof trainOptionsSchema>;

/** The fields that may change on resume; every other one is part of the run's identity. */
export const MUTABLE_ON_RESUME = ["steps", "lrDecay", "dataDir", "checkpointEvery", "sampleEvery", "sampleCount", "sampleSteps", "logEvery", "workers", "microBatch"] as const;

/**
 * The settings of one call rather than of the run: on resume they are what the call gives, else their defaults, never
 * the values stored in `checkpoint.json`. A checkpoint is data that may come from elsewhere, and these decide how much
 * work and how many threads a call spends (a stored `sampleCount` of 800,000 would draw that many images) or where it
 * reads (`dataDir`, a path on the machine that wrote it).
 */
export const NOT_INHERITED_ON_RESUME = ["dataDir", "sampleEvery", "sampleCount", "sampleSteps", "workers", "microBatch"] as const;

/**
 * The learning rate of the update at `step` (1-based): `lr` up to `decay.start`, then linear down to `lr * decay.final`
 * at `decay.end`, then constant. A pure function of the configuration and the step, so a resumed run is unchanged.
 */
export function learningRateAt(lr: number, decay: TrainConfig["lrDecay"], step: number): number {
  if (decay === null || step <= decay.start) return lr;
  if (step >= decay.end) return lr * decay.final;
  return lr * (1 - ((1 - decay.final) * (step - decay.start)) / (decay.end - decay.start));
}

/** The values of the fields a fresh run leaves out (`model` is "tiny" unless `modelModule` is given). */
export const TRAIN_DEFAULTS = {
  dataset: "builtin-mnist",
  process: "gbm",
  model: "tiny",
  modelModule: null,
  recipe: "reference",
  steps: 1000,
  batch: 32,
  lr: 2e-4,
  lrDecay: null,
  ema: 0.999,
  /** On for fresh runs, as diffusers' EMAModel: a plain 0.999 EMA still holds 13.5% of the random start after 2,000 steps. */
  emaWarmup: true,
  seed: 0,
  checkpointEvery: 500,
  sampleEvery: 0,
  sampleCount: 64,
  /** 100 for the reference recipe; 18 (Heun, NFE 35) for the EDM recipe. */
  sampleSteps: 100,
  logEvery: 50,
  workers: 0,
  microBatch: null,
} as const;

/** How pixels in [0, 1] were mapped for the SDE, so that samples can be mapped back. */
export const transformSchema = z.discriminatedUnion("kind", [
  /** x + shift (the reference: [1, 2]); back with clip(x, shift, shift + 1) - shift. */
  z.object({ kind: z.literal("positive"), shift: z.number() }),
  /** 2 x - 1 into [-1, 1]; back with (x + 1) / 2, clipped to [0, 1]. */
  z.object({ kind: z.literal("symmetric") }),
]);
export type Transform = z.infer<typeof transformSchema>;

/** What `createModel(config)` of a `--model-module` receives. */
export const modelInitSchema = z.object({
  imageSize: z.tuple([posInt, posInt]),
  channels: posInt,
  seed: nonNegInt,
  process: z.enum(PROCESSES),
});
export type ModelInit = z.infer<typeof modelInitSchema>;

/** The trainer's part of checkpoint.json (`extra`), validated when a checkpoint is loaded. */
export const extraSchema = z.object({
  app: z.literal("dale-trainer"),
  version: z.literal(1),
  config: trainConfigSchema,
  /** `sde.toJSON()`: the process with its fitted prior. */
  sde: z.object({ kind: z.enum(PROCESSES) }).passthrough(),
  transform: transformSchema,
  modelInit: modelInitSchema,
  data: z.object({
    name: z.string(),
    split: z.enum(["train", "test"]),
    count: posInt,
    height: posInt,
    width: posInt,
    channels: posInt,
    source: z.string(),
    note: z.string().optional(),
  }),
  /**
   * Position in the data and in the random streams. Every draw is derived from (seed, step): the batch of step k
   * (1-based) is slice (k - 1) mod stepsPerEpoch of the permutation of epoch floor((k - 1) / stepsPerEpoch).
   */
  position: z.object({ step: nonNegInt, epoch: nonNegInt, batchInEpoch: nonNegInt, stepsPerEpoch: posInt }),
  /** Number of rows of loss.csv that belong to this checkpoint (one per step). */
  lossRows: nonNegInt,
  /**
   * Wall-clock seconds of training behind this checkpoint, summed over the calls that resumed it. Steps that a killed
   * call ran past its last checkpoint are not counted: a resume continues from the checkpoint's own figure. Absent in
   * checkpoints from before it, and then in every checkpoint resumed from one.
   */
  trainSeconds: z.number().nonnegative().optional(),
  /**
   * The sampler and schedule this checkpoint recommends (`dale-export --sampler ...`), which dale-sample and
   * `fromPretrained` use when the caller names no sampler; absent: the process's default (`defaultSampler`).
   */
  sampling: z
    .unknown()
    .optional()
    .transform((v, ctx): SamplerChoice | undefined => {
      if (v === undefined) return undefined;
      try {
        return checkSamplerChoice(v, "sampling");
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: e instanceof Error ? e.message : String(e) });
        return z.NEVER;
      }
    }),
});
export type TrainerExtra = z.infer<typeof extraSchema>;

/** Formats a zod error as one line per issue, naming the field (through `name`, for the first path element). */
export function formatZodError(error: z.ZodError, what: string, name: (key: string) => string = (k) => k): string {
  const field = (path: (string | number)[]) => (path.length === 0 ? "(root)" : [name(String(path[0])), ...path.slice(1)].join("."));
  return `${what}:\n${error.issues.map((i) => `  ${field(i.path)}: ${i.message}`).join("\n")}`;
}
