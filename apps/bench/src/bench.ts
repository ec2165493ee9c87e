// dale-bench: GBM (multiplicative) against VP (additive) diffusion on four datasets, with the same network and budget.
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { initBackend } from "@dale/backend";
import { fail, int, list, num, oneOf, userArgv } from "@dale/cli-kit";
import { isSolver } from "@dale/samplers";
import { fidInceptionWeights } from "@dale/metrics";
import { Command, Option } from "commander";
import { guidesOption, modelsOption, samplersOption, type ModelPaths } from "./options";
import {
  BENCH_DATASETS,
  BENCH_GRIDS,
  BENCH_PROCESSES,
  BENCH_SAMPLERS,
  chunksOf,
  effectiveProfile,
  parseShard,
  processesOf,
  PROFILES,
  profileSchema,
  REFERENCE_SAMPLERS,
  sampleConfigs,
  samplersOf,
  shardChunks,
  type BenchDataset,
  type BenchGrid,
  type BenchSampler,
  type Profile,
  type ProfileName,
} from "./plan";
import { createProgress } from "./progress";
import { report } from "./report";
import { guidedProcesses, type FeatureChoice, type RunContext } from "./context";
import { prepare, sampleChunks } from "./stages";
import { BenchStore, writeAtomic } from "./store";

const STAGES = ["all", "prepare", "sample", "report"] as const;
type Stage = (typeof STAGES)[number];

interface Options {
  datasets: BenchDataset[];
  profile: ProfileName;
  out: string;
  seed: number;
  dataDir?: string;
  shard?: string;
  stage?: Stage;
  jobs: number;
  trainSteps?: number;
  trainImages?: number;
  recipe?: "reference" | "edm";
  samples?: number;
  nfe?: number[];
  grids?: BenchGrid[];
  samplers?: BenchSampler[];
  models?: ModelPaths;
  guides?: ModelPaths;
  guidance?: number;
  evalImages?: number;
  evalWeights?: "ema" | "raw";
  features: FeatureChoice["kind"];
  inceptionWeights?: string;
  downloadWeights: boolean;
  quiet: boolean;
}

function command(): Command {
  return new Command("dale-bench")
    .description(
      "Trains a GBM model and a VP-SDE baseline per dataset with the same U-Net and budget (or takes existing checkpoints, --models), samples them with every chosen sampler at several numbers of network evaluations, and reports FID, KID, precision, recall and IS in a classifier's feature space.",
    )
    .addOption(
      new Option("--datasets <list>", `comma-separated: ${BENCH_DATASETS.join(",")}`)
        .argParser(list("--datasets", oneOf("every item of --datasets", BENCH_DATASETS)))
        .default([...BENCH_DATASETS], JSON.stringify(BENCH_DATASETS.join(","))),
    )
    .addOption(
      new Option("--profile <name>", "quick: tiny models for CI on a CPU; cpu: tiny models, reference recipe; cpu-edm: the EDM recipe and solvers at a 2-core budget; full: a GPU budget")
        .choices(Object.keys(PROFILES))
        .default("quick"),
    )
    .option("--out <dir>", "the run folder (models, features, chunks, results)", "out/bench")
    .option("--seed <n>", "seed of every model, classifier and sample", int("--seed", 0, 2 ** 31 - 1), 0)
    .option("--data-dir <dir>", "folder with mnist/, fashion-mnist/, kmnist/, cifar10/ (default $DALE_DATA_DIR, then the cache)")
    .option("--shard <i/n>", "compute only chunk i, i + n, i + 2n, ... of the sample stage (needs --stage sample; then run --stage report once)")
    .addOption(new Option("--stage <stage>", "all = prepare + sample + report").choices(STAGES))
    .option("--jobs <n>", "models trained at the same time in the prepare stage, each in a worker thread of its own (1: in the main thread)", int("--jobs", 1, 64), 1)
    .option("--train-steps <n>", "override the profile's training steps per model", int("--train-steps", 1))
    .option("--train-images <n>", "train models and classifiers on the first n training images (e.g. where only part of CIFAR-10 fits on a machine)", int("--train-images", 1))
    .addOption(new Option("--recipe <name>", "override the profile's training recipe: edm (the solvers' denoiser) or reference (the paper's process and weighting)").choices(["reference", "edm"]))
    .addOption(new Option("--eval-weights <which>", "override which weights the samples use: ema (the moving average) or raw (the trained weights); training is the same either way").choices(["ema", "raw"]))
    .option("--samples <n>", "override the profile's generated images per row", int("--samples", 1))
    .option("--nfe <list>", "override the profile's network-evaluation budgets, comma-separated (e.g. 10,20,50)", list("--nfe", int("every item of --nfe", 1)))
    .option("--grids <list>", `override the profile's time grids of the reference samplers, comma-separated: ${BENCH_GRIDS.join(", ")} (the solvers always run on their Karras noise-level grid)`, list("--grids", oneOf("every item of --grids", BENCH_GRIDS)))
    .option(
      "--samplers <list>",
      `the samplers of the run, comma-separated, each on the processes it serves: ${BENCH_SAMPLERS.join(", ")} (default the reference samplers, ${REFERENCE_SAMPLERS.join(", ")})`,
      samplersOption,
    )
    .option(
      "--models <list>",
      "evaluate existing checkpoints instead of training: gbm=DIR,vp=DIR (either or both; a dale-train checkpoint or --out folder, or a dale-export folder), sampled with the weights the profile names (evalWeights: EMA, or raw); needs a single --datasets",
      modelsOption,
    )
    .option(
      "--guides <list>",
      "autoguidance: a weaker checkpoint of the same process and data per process, gbm=DIR,vp=DIR (e.g. checkpoints/mnist-gbm/guide); every solver row of a guided process gets a twin sampled with D_guide + w (D - D_guide), whose NFE counts both networks; needs a single --datasets",
      guidesOption,
    )
    .option("--guidance <w>", "the autoguidance weight w of --guides (default 2)", num("--guidance", (v) => Number.isFinite(v) && v >= 0, "a number >= 0"))
    .option("--eval-images <n>", "override the profile's held-out real images", int("--eval-images", 1))
    .addOption(
      new Option("--features <net>", "feature network of FID/KID/PR/IS: a classifier Dale trains per dataset, or the FID Inception-v3 (needs its weights)")
        .choices(["classifier", "inception"])
        .default("classifier"),
    )
    .option("--inception-weights <path>", "pt_inception-2015-12-05-6726825d.pth (default: the cache, see --download-weights)")
    .option("--download-weights", "download the Inception-v3 weights into the cache if they are not there (checked by SHA-256)", false)
    .option("--quiet", "no progress output", false);
}

async function main(): Promise<void> {
  const program = command();
  // `pnpm bench -- --profile quick` passes the `--` through; userArgv drops it.
  program.parse(userArgv());
  const o = program.opts<Options>();
  const datasets = [...new Set(o.datasets)];
  const profile: Profile = effectiveProfile(o.profile, {
    ...(o.trainSteps !== undefined ? { trainSteps: o.trainSteps } : {}),
    ...(o.trainImages !== undefined ? { trainImages: o.trainImages } : {}),
    ...(o.recipe !== undefined ? { recipe: o.recipe } : {}),
    ...(o.samples !== undefined ? { samples: o.samples } : {}),
    ...(o.nfe !== undefined ? { nfe: o.nfe } : {}),
    ...(o.grids !== undefined ? { grids: o.grids } : {}),
    ...(o.samplers !== undefined ? { samplers: o.samplers } : {}),
    ...(o.evalImages !== undefined ? { evalImages: o.evalImages } : {}),
    ...(o.evalWeights !== undefined ? { evalWeights: o.evalWeights } : {}),
  });
  const shard = o.shard !== undefined ? parseShard(o.shard) : null;
  const stage: Stage = o.stage ?? (shard ? "sample" : "all");
  if (shard && stage !== "sample") throw new Error(`--shard splits the sample stage only; got --stage ${stage}.`);

  // --models: the checkpoints of one dataset, each for a process that the run's samplers serve.
  const models: ModelPaths = {};
  if (o.models !== undefined) {
    if (datasets.length !== 1) throw new Error(`--models evaluates the checkpoints of one dataset; give --datasets with one of ${BENCH_DATASETS.join(", ")} (got ${datasets.join(", ")}).`);
    for (const kind of BENCH_PROCESSES) {
      const path = o.models[kind];
      if (path === undefined) continue;
      if (!processesOf(profile).includes(kind)) throw new Error(`--models ${kind}=${path}: none of the run's samplers (${profile.samplers.join(", ")}) runs on ${kind}; add one to --samplers.`);
      models[kind] = resolve(path);
    }
  }
  // --guides: a guide per process, for the solver rows of that process, of the one dataset.
  const guides: ModelPaths = {};
  if (o.guides !== undefined) {
    if (datasets.length !== 1) throw new Error(`--guides guides the models of one dataset; give --datasets with one of ${BENCH_DATASETS.join(", ")} (got ${datasets.join(", ")}).`);
    for (const kind of BENCH_PROCESSES) {
      const path = o.guides[kind];
      if (path === undefined) continue;
      if (!samplersOf(kind, profile).some((s) => isSolver(s))) {
        throw new Error(`--guides ${kind}=${path}: autoguidance combines denoisers, which only the solvers take, and none of the run's samplers (${profile.samplers.join(", ")}) is a solver on ${kind}.`);
      }
      guides[kind] = resolve(path);
    }
  } else if (o.guidance !== undefined) throw new Error("--guidance sets the weight of autoguidance; give --guides too.");
  const guidance = o.guidance ?? 2;
  const root = resolve(o.out);
  await mkdir(root, { recursive: true });
  const store = new BenchStore(root);
  if (o.features !== "inception" && (o.inceptionWeights !== undefined || o.downloadWeights)) {
    throw new Error("--inception-weights and --download-weights need --features inception.");
  }
  // The run's identity: a folder holds one profile (with its overrides), seed and feature network; datasets may be
  // added later.
  // The checkpoints of --models are part of it (with their dataset), so that every stage samples the same ones.
  // So are the guides and their weight.
  const identity = {
    app: "dale-bench",
    profile: profile.name,
    seed: o.seed,
    features: o.features,
    budget: profile,
    models: o.models !== undefined ? { dataset: datasets[0], ...models } : null,
    ...(o.guides !== undefined ? { guides: { dataset: datasets[0], weight: guidance, ...guides } } : {}),
  };
  const isNew = !existsSync(store.manifest());
  if (!isNew) {
    const stored = JSON.parse(readFileSync(store.manifest(), "utf8")) as { profile: ProfileName; seed: number; features?: string; budget?: Profile; models?: typeof identity.models; guides?: typeof identity.guides };
    // Runs from before --features and the overrides used the classifier and the profile as defined.
    const storedFeatures = stored.features ?? "classifier";
    if (stored.profile !== identity.profile || stored.seed !== identity.seed || storedFeatures !== identity.features) {
      throw new Error(
        `${root} holds a run with profile ${stored.profile}, seed ${stored.seed} and --features ${storedFeatures}; use another --out for profile ${identity.profile}, seed ${identity.seed}, --features ${identity.features}.`,
      );
    }
    // Both through the schema, so that key order cannot tell equal budgets apart.
    const storedBudget = profileSchema.parse(stored.budget ?? PROFILES[stored.profile]);
    if (JSON.stringify(storedBudget) !== JSON.stringify(profile)) {
      throw new Error(
        `${root} holds a run of profile ${stored.profile} with another budget (${JSON.stringify(storedBudget)}); give the same --train-steps, --train-images, --recipe, --samples, --nfe, --grids, --samplers, --eval-images and --eval-weights as when it was made, or use another --out.`,
      );
    }
    // Runs from before --models trained every model.
    const storedModels = stored.models ?? null;
    if (JSON.stringify(storedModels) !== JSON.stringify(identity.models)) {
      const show = (m: typeof identity.models) => (m === null ? "no --models (it trains its models)" : `--datasets ${m.dataset} --models ${BENCH_PROCESSES.flatMap((k) => (m[k] !== undefined ? [`${k}=${m[k]}`] : [])).join(",")}`);
      throw new Error(`${root} holds a run with ${show(storedModels)}; give the same, or use another --out (this command has ${show(identity.models)}).`);
    }
    // Runs from before --guides have none.
    if (JSON.stringify(stored.guides ?? null) !== JSON.stringify(identity.guides ?? null)) {
      const show = (g: typeof identity.guides) =>
        g === undefined || g === null ? "no --guides" : `--guides ${BENCH_PROCESSES.flatMap((k) => (g[k] !== undefined ? [`${k}=${g[k]}`] : [])).join(",")} --guidance ${g.weight}`;
      throw new Error(`${root} holds a run with ${show(stored.guides)}; give the same, or use another --out (this command has ${show(identity.guides)}).`);
    }
  }
  // The Inception weights are found (or downloaded) before anything is trained, so that a missing file fails at once.
  let features: FeatureChoice = { kind: "classifier" };
  if (o.features === "inception") {
    let weights: string;
    if (o.inceptionWeights !== undefined) {
      weights = resolve(o.inceptionWeights);
      if (!existsSync(weights)) throw new Error(`--inception-weights: ${weights} does not exist.`);
    } else weights = (await fidInceptionWeights({ download: o.downloadWeights })).path;
    features = { kind: "inception", weights };
  }
  if (isNew) await writeAtomic(store.manifest(), `${JSON.stringify(identity, null, 2)}\n`);

  const progress = createProgress({ quiet: o.quiet });
  const { backend } = await initBackend();
  progress.log(`backend ${backend}; profile ${profile.name}; datasets ${datasets.join(", ")}; out ${root}${shard ? `; shard ${shard.index}/${shard.count}` : ""}`);
  const ctx: RunContext = {
    store,
    profile,
    datasets,
    seed: o.seed,
    dataDir: o.dataDir !== undefined ? resolve(o.dataDir) : undefined,
    progress,
    features,
    jobs: o.jobs,
    models,
    guides: { paths: guides, weight: guidance },
  };

  if (stage === "all" || stage === "prepare") await prepare(ctx);
  if (stage === "all" || stage === "sample") {
    const all = sampleConfigs(datasets, profile, guidedProcesses(ctx)).flatMap((c) => chunksOf(c, profile, o.seed));
    const mine = shard ? shardChunks(all, shard) : all;
    const { done, skipped } = await sampleChunks(ctx, mine);
    progress.log(`sampled ${done} chunks${skipped > 0 ? `, ${skipped} were already there` : ""}${shard ? ` (shard ${shard.index}/${shard.count} of ${all.length} chunks)` : ""}`);
  }
  if (stage === "all" || stage === "report") {
    const results = await report(ctx);
    progress.log(`wrote ${root}/results.json, results.md and fid-vs-nfe.png (${results.rows.length} rows)`);
  }
}

main().catch((e: unknown) => fail("bench", e));
