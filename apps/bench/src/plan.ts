// What a benchmark run does, as data: the profiles, the (process, sampler, NFE) configurations, and the chunks of
// samples that are the unit of work for --shard. Everything here is pure and deterministic.
import {
  isSolver,
  REFERENCE_SAMPLER_NAMES,
  SAMPLER_NAMES,
  samplerCatalogue,
  samplerNfe,
  stepsForNfe as samplerStepsForNfe,
  type ReferenceSamplerName,
  type SamplerName,
} from "@dale/samplers";
import { z } from "zod";

export const BENCH_DATASETS = ["mnist", "fashion-mnist", "kmnist", "cifar10"] as const;
export type BenchDataset = (typeof BENCH_DATASETS)[number];
export const BENCH_PROCESSES = ["gbm", "vp"] as const;
export type BenchProcess = (typeof BENCH_PROCESSES)[number];
/**
 * The samplers of the paper's code, which step the reverse SDE or ODE in t: three multiplicative ones for GBM, two
 * additive ones for VP. A run that does not choose (`--samplers`), and every run folder made before solvers existed,
 * uses these.
 */
export const REFERENCE_SAMPLERS = REFERENCE_SAMPLER_NAMES;
export type ReferenceSampler = ReferenceSamplerName;
/** Every sampler of the bench: the whole catalogue of @dale/samplers, the reference samplers then the solvers. */
export type BenchSampler = SamplerName;
export const BENCH_SAMPLERS: readonly [BenchSampler, ...BenchSampler[]] = SAMPLER_NAMES;
/**
 * Time grids of the reference samplers (`timeGrid` of @dale/samplers): uniform in t, or Karras et al.'s rho = 7 grid.
 * The solvers have one grid of their own, Karras et al.'s noise levels (eq. 5 of arXiv 2206.00364, in the process's
 * noise coordinates), labelled "karras" (see {@link gridsOf}).
 */
export const BENCH_GRIDS = ["uniform", "karras"] as const;
export type BenchGrid = (typeof BENCH_GRIDS)[number];

const posInt = z.number().int().positive();

/** The budget of one profile; both processes of a dataset get the same network and the same training budget. */
export const profileSchema = z
  .object({
    name: z.string(),
    /** U-Net preset of @dale/models for the 28x28x1 datasets and for CIFAR-10. */
    model: z.object({ gray: z.string(), color: z.string() }),
    train: z.object({
      steps: posInt,
      batch: posInt,
      lr: z.number().positive(),
      ema: z.number().min(0).lt(1),
      /** dale-train's --ema-warmup: the EMA's decay grows as min(ema, (1 + t) / (10 + t)); off in runs from before it. */
      emaWarmup: z.boolean().default(false),
      checkpointEvery: posInt,
      /** Train the models and the classifier on the first this many training images (all when absent). */
      images: posInt.optional(),
      /**
       * dale-train's recipe: "reference", the paper's process, uniform t and weighting (every run from before recipes),
       * or "edm", issue 13's preconditioned denoiser with log-normal noise levels and EDM's weight (docs/method.md,
       * section 9), sampled with the solvers.
       */
      recipe: z.enum(["reference", "edm"]).default("reference"),
      /** A linear learning-rate decay from step `start` to `lr * final` at step `end` (dale-train's --lr-decay); null: constant. */
      lrDecay: z.object({ start: z.number().int().min(0), end: posInt, final: z.number().min(0).max(1) }).strict().nullable().default(null),
    }),
    /**
     * Which weights of each model the samples use: "ema", its exponential moving average (what every run from before
     * this field used), or "raw", the trained weights themselves. Training is the same either way; checkpoints hold both.
     */
    evalWeights: z.enum(["ema", "raw"]).default("ema"),
    /** Target numbers of network evaluations; each sampler's steps are chosen to match them (see `stepsForNfe`). */
    nfe: z.array(posInt).nonempty(),
    /**
     * Time grids every reference sampler runs on at every budget (runs from before grids existed used the uniform
     * one); the solvers run on their Karras noise-level grid whatever this says.
     */
    grids: z.array(z.enum(BENCH_GRIDS)).nonempty().default(["uniform"]),
    /** The samplers of the run, each on the processes it serves (`SAMPLERS_OF`); runs from before solvers used the reference ones. */
    samplers: z.array(z.enum(BENCH_SAMPLERS)).nonempty().default([...REFERENCE_SAMPLERS]),
    /** Generated images per (process, sampler, NFE). */
    samples: posInt,
    /** Images per chunk: the unit of --shard and of resuming. */
    chunk: posInt,
    /** Held-out real images the samples are compared with. */
    evalImages: posInt,
    /** The feature network: a classifier trained by Dale on the dataset's training images. */
    classifier: z.object({ steps: posInt, batch: posInt }),
    /** k of the k-NN manifolds of precision and recall. */
    prK: posInt,
    /** KID subsets and their size (clipped to the sample count). */
    kid: z.object({ subsets: posInt, subsetSize: posInt }),
  })
  .strict();
export type Profile = z.infer<typeof profileSchema>;

/**
 * `quick`: tiny networks and a few hundred images, for CI on two CPU cores (a few minutes for all four datasets); the
 * numbers only show that every part runs. `cpu`: the same tiny networks trained for real on two CPU cores (about an
 * hour and a half for all four datasets): small, but a comparison (the reference recipe and samplers; RESULTS.md's
 * history). `cpu-edm`: the EDM recipe and the solvers with the committed MNIST models' network, at a budget that
 * fits several seeds on two CPU cores (about 25 minutes of training per model). `full`: the budget for a GPU.
 */
export const PROFILES = {
  quick: {
    name: "quick",
    model: { gray: "tiny", color: "tiny" },
    train: { steps: 60, batch: 8, lr: 2e-3, ema: 0.9, checkpointEvery: 30 },
    nfe: [5, 10],
    grids: ["uniform", "karras"],
    samples: 64,
    chunk: 32,
    evalImages: 256,
    classifier: { steps: 100, batch: 32 },
    prK: 3,
    kid: { subsets: 10, subsetSize: 50 },
  },
  cpu: {
    name: "cpu",
    model: { gray: "tiny", color: "tiny" },
    train: { steps: 1500, batch: 32, lr: 1e-3, ema: 0.995, checkpointEvery: 250 },
    nfe: [10, 20, 50],
    grids: ["uniform", "karras"],
    samples: 256,
    chunk: 64,
    evalImages: 2000,
    classifier: { steps: 600, batch: 64 },
    prK: 3,
    kid: { subsets: 20, subsetSize: 200 },
  },
  "cpu-edm": {
    // Issue 18's budget for this 2-core machine: the network, recipe and learning-rate shape of the committed MNIST
    // models (checkpoints/mnist-gbm), at a fifth of their steps, so that three training seeds per model fit. Sampled
    // with the solvers at NFE 10, 20 and 50.
    name: "cpu-edm",
    model: { gray: "mnistSmall", color: "cifar10Small" },
    // The EMA is warmed up: a plain EMA of decay 0.999 would still hold 0.999^2000 = 13.5% of the random initial
    // weights at step 2000 (measured on MNIST's GBM model, seed 0: FID 135 with that EMA against 94 with the raw
    // weights, edm-stochastic at NFE 9). Even warmed up, the EMA trails the raw weights at this budget: the learning-rate
    // decay from step 1200 already averages them, and the EMA still carries weights from before it. On the seed-0 MNIST
    // models the raw weights had the lower FID in all 6 comparisons (both processes, 3 solver settings, 500 samples;
    // RESULTS.md), so the benchmark samples them.
    train: { steps: 2000, batch: 32, lr: 5e-4, ema: 0.999, emaWarmup: true, checkpointEvery: 250, recipe: "edm", lrDecay: { start: 1200, end: 2000, final: 0.05 } },
    evalWeights: "raw",
    nfe: [10, 20, 50],
    grids: ["karras"],
    samplers: ["euler", "heun", "edm-stochastic", "dpmpp-2m", "dpmpp-2m-sde"],
    samples: 500,
    chunk: 100,
    evalImages: 2000,
    classifier: { steps: 600, batch: 64 },
    prK: 3,
    kid: { subsets: 20, subsetSize: 200 },
  },
  full: {
    name: "full",
    // cifar10Small, not DDPM's 35.7M-weight cifar10: a session lends the GPU for 30 minutes, and the GBM models
    // double as issue 4's committed checkpoints (at most 10 MB, sampled on a CPU within 10 minutes).
    model: { gray: "mnistSmall", color: "cifar10Small" },
    train: { steps: 20000, batch: 128, lr: 2e-4, ema: 0.9995, checkpointEvery: 1000 },
    nfe: [20, 50, 100, 250],
    grids: ["uniform", "karras"],
    samples: 5000,
    chunk: 250,
    evalImages: 10000,
    classifier: { steps: 3000, batch: 128 },
    prK: 3,
    kid: { subsets: 100, subsetSize: 1000 },
  },
} as const satisfies Record<string, z.input<typeof profileSchema>>;
export type ProfileName = keyof typeof PROFILES;

/**
 * What the command line may change in a profile (`--train-steps`, `--train-images`, `--recipe`, `--samples`, `--nfe`,
 * `--grids`, `--samplers`, `--eval-images`, `--eval-weights`).
 */
export interface ProfileOverrides {
  trainSteps?: number;
  trainImages?: number;
  recipe?: "reference" | "edm";
  samples?: number;
  nfe?: number[];
  grids?: BenchGrid[];
  samplers?: BenchSampler[];
  evalImages?: number;
  evalWeights?: "ema" | "raw";
}

/** A profile with the overrides applied, validated (the run folder records it, so a resumed run keeps it). */
export function effectiveProfile(name: ProfileName, o: ProfileOverrides): Profile {
  const base = profileSchema.parse(PROFILES[name]);
  const p = {
    ...base,
    train: {
      ...base.train,
      ...(o.trainSteps !== undefined
        ? {
            steps: o.trainSteps,
            checkpointEvery: Math.min(base.train.checkpointEvery, o.trainSteps),
            // A decay keeps its place in the run: the same fractions of the new number of steps.
            lrDecay: base.train.lrDecay && { ...base.train.lrDecay, start: Math.round((base.train.lrDecay.start / base.train.steps) * o.trainSteps), end: o.trainSteps },
          }
        : {}),
      ...(o.trainImages !== undefined ? { images: o.trainImages } : {}),
      // The reference recipe trains at the profile's constant rate unless the profile decays it too.
      ...(o.recipe !== undefined ? { recipe: o.recipe } : {}),
    },
    ...(o.samples !== undefined ? { samples: o.samples, chunk: Math.min(base.chunk, o.samples) } : {}),
    ...(o.nfe !== undefined ? { nfe: [...new Set(o.nfe)].sort((a, b) => a - b) } : {}),
    ...(o.grids !== undefined ? { grids: BENCH_GRIDS.filter((g) => o.grids?.includes(g)) } : {}),
    ...(o.samplers !== undefined ? { samplers: BENCH_SAMPLERS.filter((s) => o.samplers?.includes(s)) } : {}),
    ...(o.evalImages !== undefined ? { evalImages: o.evalImages } : {}),
    ...(o.evalWeights !== undefined ? { evalWeights: o.evalWeights } : {}),
  };
  const parsed = profileSchema.safeParse(p);
  if (!parsed.success) throw new Error(`profile ${name} with the given overrides is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/**
 * The samplers each process can run, by the catalogue's process family: the multiplicative reference samplers for GBM,
 * the additive ones for VP, and every solver for both (`solveProcess` runs in the process's noise coordinates: log
 * space for GBM).
 */
export const SAMPLERS_OF: Record<BenchProcess, readonly BenchSampler[]> = {
  gbm: SAMPLER_NAMES.filter((s) => samplerCatalogue[s].family !== "additive"),
  vp: SAMPLER_NAMES.filter((s) => samplerCatalogue[s].family !== "multiplicative"),
};

/** The samplers of a process in a run: those of `profile.samplers` that it serves, in catalogue order. */
export function samplersOf(process: BenchProcess, profile: Pick<Profile, "samplers">): BenchSampler[] {
  return SAMPLERS_OF[process].filter((s) => profile.samplers.includes(s));
}

/** The processes a run samples (and so trains or loads): those with at least one of its samplers. */
export function processesOf(profile: Pick<Profile, "samplers">): BenchProcess[] {
  return BENCH_PROCESSES.filter((p) => samplersOf(p, profile).length > 0);
}

/** The grids a sampler runs on: the profile's time grids for a reference sampler, the one Karras noise-level grid for a solver. */
export function gridsOf(sampler: BenchSampler, profile: Pick<Profile, "grids">): readonly BenchGrid[] {
  return isSolver(sampler) ? ["karras"] : profile.grids;
}

/**
 * A sampler with its grid, as the results name it: "heun (karras sigma grid)" for a solver, whose only grid is Karras
 * et al.'s noise levels; "dale-langevin (uniform time grid)" or "(karras time grid)" for a reference sampler.
 */
export function samplerLabel(sampler: BenchSampler, grid: BenchGrid, guided = false): string {
  return isSolver(sampler) ? `${sampler}${guided ? " + autoguidance" : ""} (karras sigma grid)` : `${sampler} (${grid} time grid)`;
}

/**
 * The sampler steps that cost at most `nfe` network evaluations, and what they cost. The solvers' come from their
 * catalogue entry (`solvers[name].stepsForNfe` and `.nfe`: Euler, DPM-Solver++(2M) and its SDE variant one evaluation
 * per step, Heun and EDM's stochastic sampler 2 steps - 1). Of the reference samplers, Dale-Langevin, sign-agnostic and
 * Euler-Maruyama evaluate once per step; probability-flow (Heun with a final Euler step) 2 steps - 1 times;
 * predictor-corrector with one corrector step 2 steps times. `networks` is 2 for an autoguided row, whose every
 * evaluation runs the model and its guide: half the steps, and the NFE counts both networks.
 */
export function stepsForNfe(sampler: BenchSampler, nfe: number, networks = 1): { steps: number; nfe: number } {
  // With autoguidance (networks 2) both networks run at every evaluation, and the budget counts both.
  const steps = Math.max(1, samplerStepsForNfe(sampler, Math.floor(nfe / networks)));
  return { steps, nfe: networks * samplerNfe(sampler, { steps }) };
}

/** One row of the results table: a trained model sampled with one sampler at one budget. */
export interface SampleConfig {
  dataset: BenchDataset;
  process: BenchProcess;
  sampler: BenchSampler;
  /** The sampler's grid: a time grid of a reference sampler, or "karras", the noise-level grid of a solver. */
  grid: BenchGrid;
  /** The target NFE this row belongs to (the x of the plot). */
  targetNfe: number;
  steps: number;
  /** Network evaluations actually spent per image. */
  nfe: number;
  /** Folder name of its chunks, unique within the dataset. */
  key: string;
  /** Sampled with autoguidance (`--guides`, solvers only): the process's guide checkpoint at the run's weight. Absent: not. */
  guided?: true;
}

/** One chunk of samples: images [first, first + count) of a config, drawn with `seed`. */
export interface Chunk {
  config: SampleConfig;
  index: number;
  first: number;
  count: number;
  seed: number;
}

/** The folder and grid-image name of a configuration; the uniform grid keeps the name it had before grids existed. */
export function configKey(process: BenchProcess, sampler: BenchSampler, targetNfe: number, grid: BenchGrid, guided = false): string {
  return `${process}-${sampler}-nfe${targetNfe}${grid === "uniform" ? "" : `-${grid}`}${guided ? "-guided" : ""}`;
}

/**
 * The rows of a run: every (process, sampler, grid, target NFE) of the profile, and for each process in `guided` (the
 * processes with a `--guides` checkpoint) an autoguided twin of each solver row, after the unguided one.
 */
export function sampleConfigs(datasets: readonly BenchDataset[], profile: Profile, guided: readonly BenchProcess[] = []): SampleConfig[] {
  const out: SampleConfig[] = [];
  for (const dataset of datasets)
    for (const process of BENCH_PROCESSES)
      for (const sampler of samplersOf(process, profile))
        for (const grid of gridsOf(sampler, profile))
          for (const target of profile.nfe) {
            const { steps, nfe } = stepsForNfe(sampler, target);
            out.push({ dataset, process, sampler, grid, targetNfe: target, steps, nfe, key: configKey(process, sampler, target, grid) });
            if (guided.includes(process) && isSolver(sampler)) {
              const g = stepsForNfe(sampler, target, 2);
              out.push({ dataset, process, sampler, grid, targetNfe: target, steps: g.steps, nfe: g.nfe, key: configKey(process, sampler, target, grid, true), guided: true });
            }
          }
  return out;
}

/**
 * The seed of a chunk: a function of (run seed, dataset, process, sampler, target NFE, chunk index) only, so that any
 * split into shards draws exactly the same images. Chunks of different samplers with the same index share the seed,
 * so they start from the same prior draws where the processes agree (a paired comparison).
 */
export function chunkSeed(runSeed: number, dataset: BenchDataset, process: BenchProcess, index: number): number {
  const d = BENCH_DATASETS.indexOf(dataset);
  const p = BENCH_PROCESSES.indexOf(process);
  return (((runSeed * 1009 + d) * 31 + p) * 65537 + index) % 2147483647;
}

export function chunksOf(config: SampleConfig, profile: Profile, runSeed: number): Chunk[] {
  const chunks: Chunk[] = [];
  for (let first = 0, index = 0; first < profile.samples; first += profile.chunk, index++) {
    chunks.push({ config, index, first, count: Math.min(profile.chunk, profile.samples - first), seed: chunkSeed(runSeed, config.dataset, config.process, index) });
  }
  return chunks;
}

/** `"i/n"` -> { index: i, count: n }, with 0 <= i < n. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 0 && index < count)) {
    throw new Error(`--shard must be i/n with 0 <= i < n (e.g. 0/4 for the first of four shards), got ${JSON.stringify(text)}.`);
  }
  return { index, count };
}

/** The chunks shard i of n computes: every n-th chunk of the run's global chunk list, starting at i. */
export function shardChunks(all: readonly Chunk[], shard: { index: number; count: number }): Chunk[] {
  return all.filter((_, i) => i % shard.count === shard.index);
}
