// dale-bench: GBM (multiplicative) against VP (additive) diffusion on four datasets, with the same network and budget.
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { initBackend } from "@dale/backend";
import { Command, Option } from "commander";
import { BENCH_DATASETS, chunksOf, parseShard, PROFILES, sampleConfigs, shardChunks, type BenchDataset, type ProfileName } from "./plan";
import { createProgress } from "./progress";
import { report } from "./report";
import { prepare, sampleChunks, type RunContext } from "./stages";
import { BenchStore, writeAtomic } from "./store";

const STAGES = ["all", "prepare", "sample", "report"] as const;
type Stage = (typeof STAGES)[number];

interface Options {
  datasets: string;
  profile: ProfileName;
  out: string;
  seed: number;
  dataDir?: string;
  shard?: string;
  stage?: Stage;
  quiet: boolean;
}

function parseDatasets(text: string): BenchDataset[] {
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = names.filter((n) => !(BENCH_DATASETS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw new Error(`--datasets must be a comma-separated list of ${BENCH_DATASETS.join(", ")}; ${bad.length > 0 ? `unknown: ${bad.join(", ")}` : "got none"}.`);
  }
  return [...new Set(names)] as BenchDataset[];
}

function command(): Command {
  return new Command("dale-bench")
    .description(
      "Trains (or loads) a GBM model and a VP-SDE baseline per dataset with the same U-Net and budget, samples them with every sampler at several numbers of network evaluations, and reports FID, KID, precision, recall and IS in a classifier's feature space.",
    )
    .option("--datasets <list>", `comma-separated: ${BENCH_DATASETS.join(",")}`, BENCH_DATASETS.join(","))
    .addOption(new Option("--profile <name>", "quick: tiny models for CI on a CPU; full: the GPU budget").choices(Object.keys(PROFILES)).default("quick"))
    .option("--out <dir>", "the run folder (models, features, chunks, results)", "out/bench")
    .option("--seed <n>", "seed of every model, classifier and sample", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new Error(`--seed must be an integer in [0, 2^31 - 1], got ${v}.`);
      return n;
    }, 0)
    .option("--data-dir <dir>", "folder with mnist/, fashion-mnist/, kmnist/, cifar10/ (default $DALE_DATA_DIR, then the cache)")
    .option("--shard <i/n>", "compute only chunk i, i + n, i + 2n, ... of the sample stage (needs --stage sample; then run --stage report once)")
    .addOption(new Option("--stage <stage>", "all = prepare + sample + report").choices(STAGES))
    .option("--quiet", "no progress output", false);
}

async function main(): Promise<void> {
  const program = command();
  // `pnpm bench -- --profile quick` passes the `--` through; drop it.
  program.parse(process.argv[2] === "--" ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv);
  const o = program.opts<Options>();
  const datasets = parseDatasets(o.datasets);
  const profile = PROFILES[o.profile];
  const shard = o.shard !== undefined ? parseShard(o.shard) : null;
  const stage: Stage = o.stage ?? (shard ? "sample" : "all");
  if (shard && stage !== "sample") throw new Error(`--shard splits the sample stage only; got --stage ${stage}.`);

  const root = resolve(o.out);
  await mkdir(root, { recursive: true });
  const store = new BenchStore(root);
  // The run's identity: a folder holds one profile and seed (datasets may be added later).
  const identity = { app: "dale-bench", profile: profile.name, seed: o.seed };
  if (existsSync(store.manifest())) {
    const stored = JSON.parse(readFileSync(store.manifest(), "utf8")) as typeof identity;
    if (stored.profile !== identity.profile || stored.seed !== identity.seed) {
      throw new Error(`${root} holds a run with profile ${stored.profile} and seed ${stored.seed}; use another --out for profile ${identity.profile}, seed ${identity.seed}.`);
    }
  } else await writeAtomic(store.manifest(), `${JSON.stringify(identity, null, 2)}\n`);

  const progress = createProgress({ quiet: o.quiet });
  const { backend } = await initBackend();
  progress.log(`backend ${backend}; profile ${profile.name}; datasets ${datasets.join(", ")}; out ${root}${shard ? `; shard ${shard.index}/${shard.count}` : ""}`);
  const ctx: RunContext = { store, profile, datasets, seed: o.seed, dataDir: o.dataDir !== undefined ? resolve(o.dataDir) : undefined, progress };

  if (stage === "all" || stage === "prepare") await prepare(ctx);
  if (stage === "all" || stage === "sample") {
    const all = sampleConfigs(datasets, profile).flatMap((c) => chunksOf(c, profile, o.seed));
    const mine = shard ? shardChunks(all, shard) : all;
    const { done, skipped } = await sampleChunks(ctx, mine);
    progress.log(`sampled ${done} chunks${skipped > 0 ? `, ${skipped} were already there` : ""}${shard ? ` (shard ${shard.index}/${shard.count} of ${all.length} chunks)` : ""}`);
  }
  if (stage === "all" || stage === "report") {
    const results = await report(ctx);
    progress.log(`wrote ${root}/results.json, results.md and fid-vs-nfe.png (${results.rows.length} rows)`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench] error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
