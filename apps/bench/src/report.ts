// Stage 3: merges every chunk of every configuration (in chunk order, so the result does not depend on how the chunks
// were sharded), computes the metrics against the held-out real images, and writes results.json, results.md and the
// FID-NFE plot.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { renderPng } from "@dale/cli-kit";
import { compareFeatures, featureStats, inceptionScore, type HostFeatureMatrix } from "@dale/metrics";
import type { TopLevelSpec } from "vega-lite";
import { isSolver, solvers } from "@dale/samplers";
import { BENCH_PROCESSES, chunksOf, configKey, processesOf, sampleConfigs, samplerLabel, type BenchDataset, type BenchGrid, type BenchProcess, type BenchSampler, type Profile, type SampleConfig } from "./plan";
import { checkpointHasEma, checkpointOf, floorFeatures, guideOf, readModelRecord, sampledWeights, type ChunkInfo, type ModelRecord } from "./stages";
import { guidedProcesses, type RunContext } from "./context";
import { readFeatures, writeAtomic } from "./store";

/** One row of results.json. */
export interface ResultRow {
  dataset: BenchDataset;
  /** "gbm" or "vp" for generated images; "real" for the training-image floor. */
  process: BenchProcess | "real";
  sampler: BenchSampler | "training images";
  /** The sampler's grid (null for the real row): a time grid, or for a solver "karras", its noise-level grid. */
  grid: BenchGrid | null;
  targetNfe: number | null;
  nfe: number | null;
  steps: number | null;
  samples: number;
  fid: number;
  kid: { mean: number; std: number };
  /**
   * KID on features standardised with the held-out real images' mean and std per dimension (`standardizeFeatures` of
   * @dale/metrics), the same subsets: on the scale the literature reports. Absent in results written before it.
   */
  kidStandardized?: { mean: number; std: number };
  precision: number;
  recall: number;
  /**
   * Inception Score computed with the feature network's class probabilities: the dataset classifier's (not
   * Inception-v3's) unless `Results.features` is "inception". The name is kept from results of version 1.
   */
  isClassifier: { mean: number; std: number } | null;
  /** Mean per-pixel standard deviation across images (`pixelSpread`), averaged over chunks; near 0 = collapsed. */
  pixelSpread: number | null;
  /** Sampling wall time per image (seconds), summed over chunks. */
  secondsPerImage: number | null;
  /** Fraction of generated pixel values that were NaN or infinite (a diverged sampler); they were embedded as 0. */
  nonFinite: number | null;
  /** An autoguided row (`--guides`): the guide checkpoint, its training step and the weight w. Absent: unguided. */
  guidance?: { checkpoint: string; step: number; weight: number };
}

export interface DatasetSummary {
  dataset: BenchDataset;
  /** The feature network (a Dale classifier, with its test accuracy); the metrics are computed in its feature space. */
  features: string;
  reference: { eval: string; floor: string; pixelSpread?: number | null };
  /** Where each process's model came from: trained by this run, or an existing checkpoint (`--models`). */
  training: Partial<Record<BenchProcess, ModelRecord>>;
  /** The checkpoint each process was sampled from, its training step, and whether its EMA weights were sampled (the profile's evalWeights, where it has them). */
  checkpoints: Partial<Record<BenchProcess, { path: string; step: number; ema: boolean }>>;
  notes: string[];
}

export interface Results {
  app: "dale-bench";
  version: 1;
  profile: string;
  /** The profile as run: its budget, with any command-line overrides applied. */
  budget: Profile;
  seed: number;
  created: string;
  /** The feature network of every metric. */
  features: "classifier" | "inception";
  /** What every FID/KID/PR number here means. */
  metricsNote: string;
  datasets: DatasetSummary[];
  rows: ResultRow[];
}

function host(f: { data: Float32Array; rows: number }): HostFeatureMatrix {
  return { data: f.data, rows: f.rows };
}

function concatRows(parts: { data: Float32Array; rows: number; dim: number }[]): { data: Float32Array; rows: number; dim: number } {
  const dim = parts[0]?.dim ?? 0;
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const data = new Float32Array(rows * dim);
  let offset = 0;
  for (const p of parts) {
    if (p.dim !== dim) throw new Error(`chunk features have dimension ${p.dim}, expected ${dim}.`);
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { data, rows, dim };
}

function pixelsPerImage(ctx: RunContext, config: SampleConfig): number {
  const { dir } = checkpointOf(ctx.store, config.dataset, config.process, readModelRecord(ctx.store, config.dataset, config.process));
  const manifest = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8")) as {
    extra: { data: { height: number; width: number; channels: number } };
  };
  const { height, width, channels } = manifest.extra.data;
  return height * width * channels;
}

/** Reads every chunk of a configuration in order; the error lists the missing ones. */
function gather(
  ctx: RunContext,
  config: SampleConfig,
): {
  features: ReturnType<typeof concatRows>;
  probabilities: ReturnType<typeof concatRows>;
  seconds: number;
  nonFiniteFraction: number;
  pixelSpread: number | null;
  guidance: ChunkInfo["guide"];
} {
  const chunks = chunksOf(config, ctx.profile, ctx.seed);
  // An autoguided row's chunks must all come from the run's guide, at its step and weight; an unguided row's from none.
  const guide = config.guided ? { ...guideOf(ctx, config.dataset, config.process), weight: ctx.guides.weight } : undefined;
  const record = readModelRecord(ctx.store, config.dataset, config.process);
  const { dir, step } = checkpointOf(ctx.store, config.dataset, config.process, record);
  const hasEma = checkpointHasEma(dir);
  const weights = sampledWeights(ctx.profile.evalWeights, hasEma);
  const missing = chunks.filter((c) => !existsSync(ctx.store.chunkInfo(c)));
  if (missing.length > 0) {
    throw new Error(
      `${config.dataset}/${config.key}: ${missing.length} of ${chunks.length} chunks are missing (e.g. ${ctx.store.chunkInfo(missing[0] as (typeof missing)[number])}); ` +
        "run every shard of the sample stage (or copy their output folders into this one) before the report.",
    );
  }
  let seconds = 0;
  let nonFinite = 0;
  let values = 0;
  const spreads: number[] = [];
  const f = [];
  const p = [];
  for (const c of chunks) {
    const info = JSON.parse(readFileSync(ctx.store.chunkInfo(c), "utf8")) as ChunkInfo;
    if (info.seed !== c.seed || info.count !== c.count) throw new Error(`${ctx.store.chunkInfo(c)} was made with other settings (seed ${info.seed}, count ${info.count}); delete it and re-run.`);
    // A --models folder that kept training between two sample stages would mix steps in one row.
    if (record.source === "checkpoint" && info.checkpointStep !== step) {
      throw new Error(`${ctx.store.chunkInfo(c)} was sampled from step ${info.checkpointStep} of ${dir}, but the run's model is at step ${step}; delete ${join(ctx.store.root, config.dataset, "samples")} and run the sample stage again.`);
    }
    // Chunks from before the choice of weights were sampled with the EMA wherever the checkpoint had one.
    const infoWeights = info.weights ?? sampledWeights("ema", hasEma);
    if (infoWeights !== weights) {
      throw new Error(`${ctx.store.chunkInfo(c)} was sampled with the ${infoWeights} weights of ${dir}, but this run samples its ${weights} weights (evalWeights); delete ${join(ctx.store.root, config.dataset, "samples")} and run the sample stage again.`);
    }
    const same = guide === undefined ? info.guide === undefined : info.guide?.checkpoint === guide.dir && info.guide.step === guide.step && info.guide.weight === guide.weight;
    if (!same) {
      const show = (g: ChunkInfo["guide"]) => (g === undefined ? "no guide" : `the guide ${g.checkpoint} (step ${g.step}, w ${g.weight})`);
      throw new Error(
        `${ctx.store.chunkInfo(c)} was sampled with ${show(info.guide)}, but this row uses ${show(guide && { checkpoint: guide.dir, step: guide.step, weight: guide.weight })}; delete ${join(ctx.store.root, config.dataset, "samples", config.key)} and run the sample stage again.`,
      );
    }
    seconds += info.seconds;
    nonFinite += info.nonFinite;
    if (info.pixelSpread !== undefined) spreads.push(info.pixelSpread);
    const path = ctx.store.chunkFeatures(c);
    f.push(readFeatures(path));
    values += c.count;
    p.push(readFeatures(path.replace(/\.features\.npy$/, ".probabilities.npy")));
  }
  return {
    features: concatRows(f),
    probabilities: concatRows(p),
    seconds,
    nonFiniteFraction: nonFinite / (values * pixelsPerImage(ctx, config)),
    // Chunks from before the spread was recorded leave it out.
    pixelSpread: spreads.length === chunks.length ? spreads.reduce((a, b) => a + b, 0) / spreads.length : null,
    guidance: guide && { checkpoint: guide.dir, step: guide.step, weight: guide.weight },
  };
}

function metricsRow(
  ctx: RunContext,
  base: Pick<ResultRow, "dataset" | "process" | "sampler" | "grid" | "targetNfe" | "nfe" | "steps" | "secondsPerImage" | "nonFinite" | "pixelSpread" | "guidance">,
  real: { data: Float32Array; rows: number },
  realStats: ReturnType<typeof featureStats>,
  fake: { data: Float32Array; rows: number },
  probabilities: { data: Float32Array; rows: number },
): ResultRow {
  const { subsets, subsetSize } = ctx.profile.kid;
  const m = compareFeatures(host(real), host(fake), { realStats, kid: { subsets, subsetSize, seed: ctx.seed }, standardizedKid: true, prK: ctx.profile.prK });
  const is = probabilities.rows > 0 ? inceptionScore(host(probabilities), { input: "probabilities", splits: Math.min(10, probabilities.rows) }) : null;
  return {
    ...base,
    samples: fake.rows,
    fid: m.fid!,
    kid: { mean: m.kid!.mean, std: m.kid!.std },
    kidStandardized: { mean: m.kidStandardized!.mean, std: m.kidStandardized!.std },
    precision: m.precision!,
    recall: m.recall!,
    isClassifier: is ? { mean: is.mean, std: is.std } : null,
  };
}

/** Stage 3. Needs every chunk of every configuration of the chosen datasets. */
export async function report(ctx: RunContext): Promise<Results> {
  const rows: ResultRow[] = [];
  const summaries: DatasetSummary[] = [];
  const configs = sampleConfigs(ctx.datasets, ctx.profile, guidedProcesses(ctx));
  for (const dataset of ctx.datasets) {
    const task = ctx.progress.task(`metrics ${dataset}`, configs.filter((c) => c.dataset === dataset).length + 1);
    const real = readFeatures(ctx.store.reference(dataset));
    const realStats = featureStats(host(real));
    const floor = floorFeatures(ctx, dataset);
    const reference = JSON.parse(readFileSync(join(ctx.store.root, dataset, "reference.json"), "utf8")) as DatasetSummary["reference"];
    rows.push(
      metricsRow(
        ctx,
        { dataset, process: "real", sampler: "training images", grid: null, targetNfe: null, nfe: null, steps: null, secondsPerImage: null, nonFinite: null, pixelSpread: reference.pixelSpread ?? null },
        real,
        realStats,
        floor.features,
        floor.probabilities,
      ),
    );
    let done = 1;
    task.update(done);
    for (const config of configs.filter((c) => c.dataset === dataset)) {
      const g = gather(ctx, config);
      const { process, sampler, grid, targetNfe, nfe, steps } = config;
      rows.push(
        metricsRow(
          ctx,
          {
            dataset,
            process,
            sampler,
            grid,
            targetNfe,
            nfe,
            steps,
            secondsPerImage: g.seconds / g.features.rows,
            nonFinite: g.nonFiniteFraction,
            pixelSpread: g.pixelSpread,
            ...(g.guidance ? { guidance: g.guidance } : {}),
          },
          real,
          realStats,
          g.features,
          g.probabilities,
        ),
      );
      task.update(++done);
    }
    task.done();
    const processes = processesOf(ctx.profile);
    const training: DatasetSummary["training"] = Object.fromEntries(processes.map((p) => [p, readModelRecord(ctx.store, dataset, p)]));
    const checkpoints: DatasetSummary["checkpoints"] = Object.fromEntries(
      processes.map((p) => {
        const { dir, step } = checkpointOf(ctx.store, dataset, p, training[p] as ModelRecord);
        return [p, { path: dir, step, ema: sampledWeights(ctx.profile.evalWeights, checkpointHasEma(dir)) === "ema" }];
      }),
    );
    const notes = [...new Set(Object.values(training).flatMap((t) => (t.note ? [t.note] : [])))];
    summaries.push({ dataset, features: featureName(ctx, dataset), reference, training, checkpoints, notes });
  }
  const results: Results = {
    app: "dale-bench",
    version: 1,
    profile: ctx.profile.name,
    budget: ctx.profile,
    seed: ctx.seed,
    created: new Date().toISOString(),
    features: ctx.features.kind,
    metricsNote:
      ctx.features.kind === "classifier"
        ? "FID, KID, precision and recall are computed in the feature space of a classifier that Dale trained on each dataset (named per dataset), not Inception-v3: they rank models within a dataset and are not comparable with published FID-Inception numbers. IS uses the same classifier's class probabilities."
        : "FID, KID, precision and recall are computed in the 2048-d pool features of the FID Inception-v3 (pytorch-fid's port of the 2015-12-05 TensorFlow graph; its weights are named per dataset), IS with its 1008 class probabilities. They are comparable with published FID-Inception numbers only at the same sample and reference counts (FID is biased upwards for small counts).",
    datasets: summaries,
    rows,
  };
  await writeAtomic(join(ctx.store.root, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeAtomic(join(ctx.store.root, "results.md"), markdown(results, ctx.store.root));
  await writeAtomic(join(ctx.store.root, "fid-vs-nfe.png"), await renderPng(fidSpec(results)));
  return results;
}

function featureName(ctx: RunContext, dataset: BenchDataset): string {
  const path = join(ctx.store.root, dataset, "features.txt");
  return existsSync(path) ? readFileSync(path, "utf8").trim() : `${ctx.features.kind} (see the prepare log)`;
}

function featureLabel(results: Pick<Results, "features">): string {
  return results.features === "inception" ? "Inception-v3" : "classifier";
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/**
 * The tables of results.md: one per dataset, rows sorted by process, sampler and NFE, the best FID in bold, each
 * process's checkpoint (path and step) above them. `root` is the run folder (its own models are named relative to it).
 */
export function markdown(results: Results, root: string): string {
  const p = results.budget;
  const solverNames = p.samplers.filter((s) => isSolver(s));
  const referenceNames = p.samplers.filter((s) => !isSolver(s));
  const trainsAny = results.datasets.some((d) => Object.values(d.training).some((t) => t.source !== "checkpoint"));
  const lines: string[] = [
    `# dale-bench results (profile ${results.profile}, seed ${results.seed})`,
    "",
    `Written ${results.created}. ${results.metricsNote}`,
    "",
    (trainsAny
      ? `Budget per model that this run trains: ${p.train.steps} steps of batch ${p.train.batch} (lr ${p.train.lr}${p.train.lrDecay ? `, decayed linearly from step ${p.train.lrDecay.start} to ${p.train.lrDecay.final} x at ${p.train.lrDecay.end}` : ""}, EMA ${p.train.ema}${p.train.emaWarmup ? " warmed up as min(EMA, (1 + t) / (10 + t))" : ""}), ${p.train.recipe} recipe`
      : "No model is trained by this run: every process is an existing checkpoint (--models)") +
      `${p.train.images !== undefined ? `; classifier${trainsAny ? " and models" : ""} on the first ${p.train.images} training images` : ""}; ${p.samples} samples per row, drawn with each model's ${p.evalWeights === "ema" ? "EMA" : "raw (not EMA)"} weights; ` +
      `${p.evalImages} held-out real images; KID over ${p.kid.subsets} subsets; precision/recall with k = ${p.prK}.`,
    "",
    `Samplers: ${p.samplers.join(", ")}. NFE is what each row spent per image, the most that fits the target budget.` +
      (referenceNames.length > 0 ? ` The reference samplers (${referenceNames.join(", ")}) step t on a time grid: ${p.grids.map((g) => (g === "karras" ? "karras (Karras et al.'s rho = 7 levels in t)" : "uniform")).join(", ")}.` : "") +
      (solverNames.length > 0
        ? ` The solvers (${solverNames.join(", ")}) run in the process's noise coordinates (log space for GBM) on one grid, Karras et al.'s noise levels (eq. 5 of arXiv 2206.00364, rho = 7, from the process's sigma at T down to EDM's 0.002, or the process's own smallest level where that is larger): grid "karras sigma" below; their NFE comes from the solvers' catalogue of @dale/samplers.`
        : ""),
    "",
    ...solverNames.map((s) => `- ${s}${solvers[s].stochastic ? " (stochastic)" : ""}: ${solvers[s].reference}.`),
    ...(solverNames.length > 0 ? [""] : []),
    `Pixel spread: the mean per-pixel standard deviation across the images of a chunk of ${p.chunk} (pixels in [0, 1]), averaged over chunks; ` +
      "the real row gives the real images' value. Near 0 means the sampler returned nearly the same image every time, which FID alone can hide.",
    "",
  ];
  for (const d of results.datasets) {
    lines.push(`## ${d.dataset}`, "", `Features: ${d.features}.`, "", `Real images: ${d.reference.eval}; floor: ${d.reference.floor}.`, "");
    for (const proc of BENCH_PROCESSES) {
      const t = d.training[proc];
      const c = d.checkpoints[proc];
      if (t === undefined) continue;
      let where = "";
      if (c !== undefined) {
        // The run's own models by their place in the run folder, a --models checkpoint by its absolute path.
        const rel = relative(root, c.path);
        where = `checkpoint \`${rel.startsWith("..") || isAbsolute(rel) ? c.path : rel}\` at step ${c.step}${c.ema ? " (EMA weights)" : " (raw weights)"}`;
      }
      lines.push(
        t.source === "checkpoint"
          ? `- ${proc}: ${where}, given with --models: ${t.preset === null ? "a --model-module network" : `U-Net ${t.preset}`}, recipe ${t.recipe}, trained on ${t.dataset} with batch ${t.batch} and lr ${t.lr}, not by this run.`
          : `- ${proc}: trained by this run: U-Net ${t.preset}, ${t.recipe ?? "reference"} recipe, ${t.steps} steps x batch ${t.batch}, ${fmt(t.seconds, 0)} s of training${where === "" ? "" : `; ${where}`}.`,
      );
    }
    for (const proc of BENCH_PROCESSES) {
      const g = results.rows.find((r) => r.dataset === d.dataset && r.process === proc && r.guidance !== undefined)?.guidance;
      if (g !== undefined) lines.push(`- ${proc} guide (autoguidance, --guides): checkpoint \`${g.checkpoint}\` at step ${g.step}, weight w = ${g.weight}; its rows read "+ autoguidance", and their NFE counts both networks.`);
    }
    for (const n of d.notes) lines.push(`- Note: ${n}`);
    lines.push(
      "",
      `| process | sampler | grid | NFE | FID | KID x 1000 | KID x 1000, standardised | precision | recall | IS (${featureLabel(results)}) | pixel spread | s / image | NaN pixels |`,
      "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    const rs = results.rows.filter((r) => r.dataset === d.dataset);
    const best = Math.min(...rs.filter((r) => r.process !== "real").map((r) => r.fid));
    for (const r of rs) {
      const fid = r.process !== "real" && r.fid === best ? `**${fmt(r.fid)}**` : fmt(r.fid);
      const is = r.isClassifier ? `${fmt(r.isClassifier.mean)} ± ${fmt(r.isClassifier.std)}` : "-";
      lines.push(
        `| ${r.process} | ${r.sampler}${r.guidance ? ` + autoguidance (w ${r.guidance.weight})` : ""} | ${gridCell(r)} | ${r.nfe ?? "-"} | ${fid} | ${fmt(1000 * r.kid.mean)} ± ${fmt(1000 * r.kid.std)} | ${r.kidStandardized ? `${fmt(1000 * r.kidStandardized.mean)} ± ${fmt(1000 * r.kidStandardized.std)}` : "-"} | ${fmt(r.precision, 3)} | ${fmt(r.recall, 3)} | ${is} | ${r.pixelSpread === null ? "-" : fmt(r.pixelSpread, 3)} | ${r.secondsPerImage === null ? "-" : fmt(r.secondsPerImage, 4)} | ${r.nonFinite === null ? "-" : r.nonFinite === 0 ? "0" : `${fmt(100 * r.nonFinite, 1)}%`} |`,
      );
    }
    lines.push("", ...gridLinks(d.dataset, rs), "");
  }
  return `${lines.join("\n")}\n`;
}

/** The grid column: a reference sampler's time grid ("uniform", "karras"), or "karras sigma" for a solver. */
function gridCell(r: ResultRow): string {
  if (r.grid === null || r.sampler === "training images") return "-";
  return isSolver(r.sampler) ? "karras sigma" : r.grid;
}

function gridLinks(dataset: BenchDataset, rows: readonly ResultRow[]): string[] {
  return rows.flatMap((r) => {
    if (r.process === "real" || r.sampler === "training images" || r.targetNfe === null) return [];
    const grid = r.grid ?? "uniform";
    const file = `${dataset}/grids/${configKey(r.process, r.sampler, r.targetNfe, grid, r.guidance !== undefined)}.png`;
    return [`- ${r.process} ${samplerLabel(r.sampler, grid, r.guidance !== undefined)}, NFE ${r.nfe}: [${file}](${file})`];
  });
}

/** FID against network evaluations, one panel per dataset, one line per (process, sampler); the real-image floor as a rule. */
export function fidSpec(results: Results): TopLevelSpec {
  const values = results.rows.flatMap((r) =>
    r.process === "real" || r.sampler === "training images" ? [] : [{ dataset: r.dataset, method: `${r.process} ${samplerLabel(r.sampler, r.grid ?? "uniform", r.guidance !== undefined)}`, nfe: r.nfe, fid: r.fid }],
  );
  const floors = results.rows.filter((r) => r.process === "real").map((r) => ({ dataset: r.dataset, fid: r.fid }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `dale-bench (${results.profile}): FID in ${featureLabel(results)} features against network evaluations`,
    data: { values: [...values, ...floors.map((f) => ({ ...f, method: "real images (floor)", nfe: null }))] },
    facet: { field: "dataset", type: "nominal" },
    columns: 2,
    spec: {
      width: 300,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.nfe !== null" }],
          mark: { type: "line", point: true },
          encoding: {
            x: { field: "nfe", type: "quantitative", scale: { type: "log" }, title: "network evaluations per image" },
            y: { field: "fid", type: "quantitative", scale: { type: "log" }, title: `FID (${featureLabel(results)} features)` },
            color: { field: "method", type: "nominal", legend: { labelLimit: 400 } },
          },
        },
        { transform: [{ filter: "datum.nfe === null" }], mark: { type: "rule", strokeDash: [4, 4], color: "gray" }, encoding: { y: { field: "fid", type: "quantitative" } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
    config: { font: "DejaVu Sans, Liberation Sans, Arial, sans-serif", background: "white" },
  };
}
