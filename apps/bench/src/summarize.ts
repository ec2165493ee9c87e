// dale-bench-summary: merges the results of dale-bench runs that differ only in their seed into mean and spread, with a
// verdict per dataset, FID against NFE with bands, and the grids of GBM and VP side by side.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fail, list, renderPng, sideBySidePng, userArgv } from "@dale/cli-kit";
import { Command } from "commander";
import { BENCH_DATASETS } from "./plan";
import type { Results } from "./report";
import { seedsFidSpec, sideBySideChoice, summarize, summaryMarkdown, type SeedRun } from "./seeds";
import { writeAtomic } from "./store";

interface Options {
  runs: string[];
  out: string;
  scale: number;
}

function readRun(dir: string): SeedRun {
  const root = resolve(dir);
  const path = join(root, "results.json");
  if (!existsSync(path)) throw new Error(`--runs: ${path} does not exist; run dale-bench's report stage in ${root} first.`);
  let results: Results;
  try {
    results = JSON.parse(readFileSync(path, "utf8")) as Results;
  } catch (e) {
    throw new Error(`--runs: ${path} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  // A checkpoint given as a run's --out folder and as its checkpoint link is one model: compare real paths.
  for (const d of results.datasets ?? []) {
    for (const c of Object.values(d.checkpoints ?? {})) if (c && existsSync(c.path)) c.path = realpathSync(c.path);
  }
  return { root, results };
}

async function main(): Promise<void> {
  const program = new Command("dale-bench-summary")
    .description(
      "Merges dale-bench runs of one profile that differ in --seed (training seeds: each run trains its models; sampling seeds: the runs share --models) into mean ± standard deviation per row, a GBM-against-VP verdict per dataset, FID against NFE with the spread as bands, and each dataset's grids side by side.",
    )
    .requiredOption("--runs <dirs>", "comma-separated run folders, each holding results.json", list("--runs", (v) => v, { distinct: true }))
    .option("--out <dir>", "where summary.json, summary.md, fid-vs-nfe.png and grids/<dataset>.png go", "out/bench-summary")
    .option("--scale <k>", "draw each grid pixel as k x k", (v) => Number(v), 2);
  program.parse(userArgv());
  const o = program.opts<Options>();
  if (!(Number.isInteger(o.scale) && o.scale >= 1 && o.scale <= 16)) throw new Error(`--scale must be an integer from 1 to 16, got ${o.scale}.`);
  const out = resolve(o.out);
  await mkdir(join(out, "grids"), { recursive: true });
  const summary = summarize(o.runs.map(readRun));
  const gridFiles: Record<string, string> = {};
  for (const dataset of BENCH_DATASETS) {
    const choice = sideBySideChoice(summary, dataset);
    if (choice === null) continue;
    const { comparison: c, files } = choice;
    if (!existsSync(files.gbm) || !existsSync(files.vp)) {
      console.error(`[summary] ${dataset}: no grid at ${existsSync(files.gbm) ? files.vp : files.gbm}; skipped the side-by-side grid.`);
      continue;
    }
    const label = `${c.sampler}, NFE ${summary.rows.find((r) => r.dataset === dataset && r.sampler === c.sampler && r.targetNfe === c.targetNfe)?.nfe ?? c.targetNfe}`;
    const png = await sideBySidePng(
      [
        { png: readFileSync(files.gbm), label: `GBM (log space): ${label}` },
        { png: readFileSync(files.vp), label: `VP: ${label}` },
      ],
      o.scale,
    );
    const file = `grids/${dataset}.png`;
    await writeAtomic(join(out, file), png);
    gridFiles[dataset] = file;
  }
  await writeAtomic(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  await writeAtomic(join(out, "summary.md"), summaryMarkdown(summary, gridFiles));
  await writeAtomic(join(out, "fid-vs-nfe.png"), await renderPng(seedsFidSpec(summary)));
  console.error(`[summary] ${summary.runs.length} runs, ${summary.rows.length} rows: wrote ${out}/summary.json, summary.md, fid-vs-nfe.png and ${Object.keys(gridFiles).length} side-by-side grids.`);
}

main().catch((e: unknown) => fail("bench-summary", e));
