// Several dale-bench runs of one budget with different seeds, merged: every figure as mean and spread over the seeds,
// a verdict per dataset that calls a difference between GBM and VP only where it exceeds the spread, FID against NFE
// with the spread as bands, and each dataset's grids side by side. Pure functions over results.json; the bin is
// summarize.ts.
import { resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { isSolver } from "@dale/samplers";
import { configKey, samplerLabel, type BenchDataset, type BenchGrid, type BenchProcess, type BenchSampler } from "./plan";
import type { Results, ResultRow } from "./report";

/** One run folder and its results.json. */
export interface SeedRun {
  root: string;
  results: Results;
}

/** A figure over seeds: mean, sample standard deviation (n - 1; 0 for one seed), range, and the values in seed order. */
export interface Stat {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

export function stat(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) throw new Error("stat: no values.");
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), n, values: [...values] };
}

/** How a group's runs differ: their models are different trainings, or one model sampled with different seeds. */
export type SeedKind = "training seeds" | "sampling seeds";

/** A model of the summary: a process trained with a recipe ("edm", or the paper's "reference"). */
export interface ModelKey {
  process: BenchProcess;
  recipe: string;
}

export interface SummaryRow extends ModelKey {
  dataset: BenchDataset;
  sampler: BenchSampler;
  grid: BenchGrid;
  targetNfe: number;
  /** Autoguided (`--guides`); absent: unguided. */
  guided?: true;
  /** Network evaluations per image (the same in every run: same sampler and target). */
  nfe: number;
  samples: number;
  /** The run seeds, in the order of the values of every Stat. */
  seeds: number[];
  fid: Stat;
  kid: Stat;
  kidStandardized: Stat | null;
  precision: Stat;
  recall: Stat;
  pixelSpread: Stat | null;
}

export interface DatasetModels extends ModelKey {
  kind: SeedKind;
  seeds: number[];
  /** The checkpoints sampled, one per run (the same path repeated for sampling seeds). */
  checkpoints: string[];
  /** The run folders holding the model, in the order of `seeds`. */
  runs: string[];
  steps: number[];
}

export interface DatasetSeeds {
  dataset: BenchDataset;
  /** The feature network per run (it does not depend on the run seed, so these should all be equal). */
  features: string[];
  reference: string;
  /** The real-image floor (training images against the held-out ones) over runs. */
  floor: Stat;
  models: DatasetModels[];
}

/** GBM against VP at one (sampler, NFE), both trained with the same recipe. */
export interface Comparison {
  dataset: BenchDataset;
  recipe: string;
  sampler: BenchSampler;
  grid: BenchGrid;
  targetNfe: number;
  /** Both rows autoguided; absent: both unguided. */
  guided?: true;
  gbm: Stat;
  vp: Stat;
  /** Which process has the lower FID where the two intervals mean +- sd do not overlap; "none" where they do. */
  better: BenchProcess | "none";
}

/** Per dataset: the best row of each process and the verdict between them. */
export interface Headline {
  dataset: BenchDataset;
  recipe: string;
  gbm: SummaryRow;
  vp: SummaryRow;
  better: BenchProcess | "none";
  /** Of the (sampler, NFE) pairs both processes ran, how many each wins beyond the spread, and how many are ties. */
  wins: { gbm: number; vp: number; none: number };
}

export interface SeedSummary {
  app: "dale-bench-summary";
  version: 1;
  created: string;
  profile: string;
  runs: { root: string; seed: number; created: string }[];
  rule: string;
  datasets: DatasetSeeds[];
  rows: SummaryRow[];
  comparisons: Comparison[];
  headlines: Headline[];
}

export const VERDICT_RULE =
  "A difference is called only where the intervals mean +- one standard deviation over the seeds do not overlap; otherwise the table says 'no clear difference'. With one seed no difference is called.";

/** The recipe a run's model of `process` on `dataset` was trained with (runs from before recipes: the reference one). */
function recipeOf(results: Results, dataset: BenchDataset, process: BenchProcess): string {
  const t = results.datasets.find((d) => d.dataset === dataset)?.training[process];
  if (t === undefined) return "reference";
  if (t.source === "checkpoint") return t.recipe;
  return t.recipe ?? results.budget.train.recipe ?? "reference";
}

function outOf(a: Stat, b: Stat): boolean {
  return a.n > 1 && b.n > 1 && (a.mean + a.sd < b.mean - b.sd || b.mean + b.sd < a.mean - a.sd);
}

/** The process with the lower mean where the intervals mean +- sd do not overlap ({@link VERDICT_RULE}). */
export function verdict(gbm: Stat, vp: Stat): BenchProcess | "none" {
  if (!outOf(gbm, vp)) return "none";
  return gbm.mean < vp.mean ? "gbm" : "vp";
}

/**
 * Merges the results of several runs. Every run must have the same profile budget apart from its seed; rows are
 * matched by (dataset, process, recipe, sampler, grid, target NFE), and a row missing from some run is refused by
 * name, so that no mean is over fewer seeds than the table says. So is a row whose runs drew different numbers of
 * samples or sampled different weights (EMA or raw).
 */
export function summarize(runs: readonly SeedRun[], created = new Date().toISOString()): SeedSummary {
  const fn = "summarize";
  if (runs.length === 0) throw new Error(`${fn}: give at least one run.`);
  for (const r of runs) {
    if (r.results.app !== "dale-bench" || !Array.isArray(r.results.rows)) throw new Error(`${fn}: ${r.root} does not hold a dale-bench results.json.`);
  }
  const profiles = new Set(runs.map((r) => r.results.profile));
  if (profiles.size > 1) throw new Error(`${fn}: the runs come from different profiles (${[...profiles].join(", ")}); summarise runs of one profile.`);
  const sorted = [...runs].sort((a, b) => a.results.seed - b.results.seed);
  const modelKey = (r: SeedRun, row: ResultRow) => `${row.dataset}|${row.process}|${row.process === "real" ? "" : recipeOf(r.results, row.dataset, row.process)}`;
  // Which runs hold each model, to check that every model has each of its runs once.
  const groups = new Map<string, { run: SeedRun; row: ResultRow }[]>();
  const floors = new Map<BenchDataset, number[]>();
  for (const run of sorted) {
    for (const row of run.results.rows) {
      if (row.process === "real") {
        // The real-image floor: one per run and dataset, whatever models the run holds.
        floors.set(row.dataset, [...(floors.get(row.dataset) ?? []), row.fid]);
        continue;
      }
      const key = `${modelKey(run, row)}|${row.sampler}${row.guidance ? "+guided" : ""}|${row.grid ?? "-"}|${row.targetNfe ?? "-"}`;
      const list = groups.get(key) ?? [];
      if (list.some((e) => e.run.results.seed === run.results.seed)) {
        throw new Error(`${fn}: ${run.root} and ${list.find((e) => e.run.results.seed === run.results.seed)?.run.root} both hold seed ${run.results.seed} for ${key}; give each seed once.`);
      }
      list.push({ run, row });
      groups.set(key, list);
    }
  }
  // The runs of each model: every row of that model must come from all of them.
  const runsOfModel = new Map<string, Set<string>>();
  for (const [key, list] of groups) {
    const model = key.split("|").slice(0, 3).join("|");
    const set = runsOfModel.get(model) ?? new Set<string>();
    for (const e of list) set.add(e.run.root);
    runsOfModel.set(model, set);
  }
  // One mean must not mix sample counts (FID is biased by the count) or weights (a model's EMA against its raw weights).
  const weightsOf = (run: SeedRun, row: ResultRow) => {
    const c = run.results.datasets.find((d) => d.dataset === row.dataset)?.checkpoints[row.process as BenchProcess];
    return c === undefined ? "unknown" : c.ema ? "EMA" : "raw";
  };
  for (const [key, list] of groups) {
    for (const [what, of] of [
      ["samples", (e: (typeof list)[number]) => String(e.row.samples)],
      ["weights", (e: (typeof list)[number]) => weightsOf(e.run, e.row)],
    ] as const) {
      const values = new Set(list.map(of));
      if (values.size > 1) {
        throw new Error(`${fn}: the row ${key} has different ${what} in its runs (${list.map((e) => `${of(e)} in ${e.run.root}`).join(", ")}); summarise runs made with the same ${what === "samples" ? "--samples" : "weights (--eval-weights)"}.`);
      }
    }
  }
  for (const [key, list] of groups) {
    const model = key.split("|").slice(0, 3).join("|");
    const expected = runsOfModel.get(model) as Set<string>;
    if (list.length !== expected.size) {
      const missing = [...expected].filter((root) => !list.some((e) => e.run.root === root));
      throw new Error(`${fn}: the row ${key} is missing from ${missing.join(", ")}; every run of a model must have the same rows (same --samplers, --nfe and --grids).`);
    }
  }

  const rows: SummaryRow[] = [];
  for (const list of groups.values()) {
    const first = list[0] as { run: SeedRun; row: ResultRow };
    const r = first.row;
    if (r.process === "real") continue;
    if (r.sampler === "training images" || r.grid === null || r.targetNfe === null || r.nfe === null) continue;
    const pick = (f: (row: ResultRow) => number) => stat(list.map((e) => f(e.row)));
    const optional = (f: (row: ResultRow) => number | null | undefined) => {
      const values = list.map((e) => f(e.row));
      return values.every((v): v is number => typeof v === "number") ? stat(values) : null;
    };
    rows.push({
      dataset: r.dataset,
      process: r.process,
      recipe: recipeOf(first.run.results, r.dataset, r.process),
      sampler: r.sampler,
      grid: r.grid,
      targetNfe: r.targetNfe,
      ...(r.guidance ? { guided: true as const } : {}),
      nfe: r.nfe,
      samples: r.samples,
      seeds: list.map((e) => e.run.results.seed),
      fid: pick((x) => x.fid),
      kid: pick((x) => x.kid.mean),
      kidStandardized: optional((x) => x.kidStandardized?.mean),
      precision: pick((x) => x.precision),
      recall: pick((x) => x.recall),
      pixelSpread: optional((x) => x.pixelSpread),
    });
  }

  const datasetNames = [...new Set(rows.map((r) => r.dataset))];
  const datasets: DatasetSeeds[] = datasetNames.map((dataset) => {
    const models: DatasetModels[] = [];
    for (const key of [...runsOfModel.keys()].filter((k) => k.startsWith(`${dataset}|`))) {
      const [, process, recipe] = key.split("|") as [string, BenchProcess, string];
      const holding = sorted.filter((run) => (runsOfModel.get(key) as Set<string>).has(run.root));
      const cps = holding.map((run) => run.results.datasets.find((d) => d.dataset === dataset)?.checkpoints[process]);
      const checkpoints = cps.map((c) => (c ? resolve(c.path) : "?"));
      models.push({
        process,
        recipe,
        kind: new Set(checkpoints).size === 1 && holding.length > 1 ? "sampling seeds" : "training seeds",
        seeds: holding.map((run) => run.results.seed),
        checkpoints,
        runs: holding.map((run) => run.root),
        steps: cps.map((c) => c?.step ?? NaN),
      });
    }
    const summaries = sorted.flatMap((run) => run.results.datasets.filter((d) => d.dataset === dataset));
    return {
      dataset,
      features: [...new Set(summaries.map((d) => d.features))],
      reference: summaries[0]?.reference.eval ?? "",
      floor: stat(floors.get(dataset) ?? [NaN]),
      models: models.sort((a, b) => (a.process === b.process ? a.recipe.localeCompare(b.recipe) : a.process.localeCompare(b.process))),
    };
  });

  const comparisons: Comparison[] = [];
  for (const g of rows.filter((r) => r.process === "gbm")) {
    const v = rows.find((r) => r.process === "vp" && r.recipe === g.recipe && r.dataset === g.dataset && r.sampler === g.sampler && r.grid === g.grid && r.targetNfe === g.targetNfe && r.guided === g.guided);
    if (v) {
      comparisons.push({ dataset: g.dataset, recipe: g.recipe, sampler: g.sampler, grid: g.grid, targetNfe: g.targetNfe, ...(g.guided ? { guided: true as const } : {}), gbm: g.fid, vp: v.fid, better: verdict(g.fid, v.fid) });
    }
  }
  const headlines: Headline[] = [];
  for (const dataset of datasetNames) {
    for (const recipe of [...new Set(rows.filter((r) => r.dataset === dataset).map((r) => r.recipe))]) {
      const best = (p: BenchProcess) =>
        rows.filter((r) => r.dataset === dataset && r.recipe === recipe && r.process === p).sort((a, b) => a.fid.mean - b.fid.mean)[0];
      const g = best("gbm");
      const v = best("vp");
      if (!g || !v) continue;
      const mine = comparisons.filter((c) => c.dataset === dataset && c.recipe === recipe);
      headlines.push({
        dataset,
        recipe,
        gbm: g,
        vp: v,
        better: verdict(g.fid, v.fid),
        wins: { gbm: mine.filter((c) => c.better === "gbm").length, vp: mine.filter((c) => c.better === "vp").length, none: mine.filter((c) => c.better === "none").length },
      });
    }
  }
  return {
    app: "dale-bench-summary",
    version: 1,
    created,
    profile: sorted[0]?.results.profile ?? "",
    runs: sorted.map((r) => ({ root: r.root, seed: r.results.seed, created: r.results.created })),
    rule: VERDICT_RULE,
    datasets,
    rows,
    comparisons,
    headlines,
  };
}

const f2 = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "-");
/** "mean ± sd" (or the single value), scaled. */
export function pm(s: Stat | null, digits = 2, scale = 1): string {
  if (s === null) return "-";
  return s.n > 1 ? `${f2(scale * s.mean, digits)} ± ${f2(scale * s.sd, digits)}` : f2(scale * s.mean, digits);
}

function modelLabel(m: ModelKey): string {
  return m.recipe === "edm" ? m.process : `${m.process} (${m.recipe} recipe)`;
}

function rowLabel(r: Pick<SummaryRow, "sampler" | "grid" | "guided">): string {
  return isSolver(r.sampler) ? `${r.sampler}${r.guided ? " + autoguidance" : ""}` : samplerLabel(r.sampler, r.grid);
}

const CALL: Record<BenchProcess | "none", string> = { gbm: "GBM better", vp: "VP better", none: "no clear difference" };

/** The tables: per dataset its models and seeds, the headline with its verdict, then every row as mean ± sd. */
export function summaryMarkdown(s: SeedSummary, gridFiles: Partial<Record<BenchDataset, string>> = {}): string {
  const lines: string[] = [
    `# dale-bench over seeds (profile ${s.profile})`,
    "",
    `Written ${s.created} from ${s.runs.length} runs: ${s.runs.map((r) => `seed ${r.seed} (\`${r.root}\`)`).join(", ")}.`,
    "",
    `Every figure is mean ± standard deviation over the seeds of its model. ${s.rule}`,
    "",
    "## Headline: the best row of each process, per dataset",
    "",
    "| dataset | recipe | GBM best (sampler, NFE) | GBM FID | VP best (sampler, NFE) | VP FID | verdict | (sampler, NFE) pairs: GBM / VP / no clear difference |",
    "|---|---|---|---:|---|---:|---|---|",
  ];
  for (const h of s.headlines) {
    lines.push(
      `| ${h.dataset} | ${h.recipe} | ${rowLabel(h.gbm)}, ${h.gbm.nfe} | ${pm(h.gbm.fid)} | ${rowLabel(h.vp)}, ${h.vp.nfe} | ${pm(h.vp.fid)} | ${CALL[h.better]} | ${h.wins.gbm} / ${h.wins.vp} / ${h.wins.none} |`,
    );
  }
  for (const d of s.datasets) {
    lines.push("", `## ${d.dataset}`, "", `Features: ${d.features.join("; ")}. Real images: ${d.reference}. Floor (training images against them): FID ${pm(d.floor)}.`, "");
    for (const m of d.models) {
      lines.push(`- ${modelLabel(m)}: ${m.seeds.length} ${m.seeds.length === 1 ? m.kind.replace(/s$/, "") : m.kind} (${m.seeds.join(", ")}); ${m.kind === "sampling seeds" ? `one model, \`${m.checkpoints[0]}\` at step ${m.steps[0]}` : `checkpoints at steps ${m.steps.join(", ")}`}.`);
    }
    const file = gridFiles[d.dataset];
    if (file !== undefined) lines.push("", `![${d.dataset}: GBM and VP side by side](${file})`);
    lines.push(
      "",
      "| model | sampler | NFE | FID | KID x 1000 | KID x 1000, standardised | precision | recall | pixel spread | against the other process |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    );
    const mine = s.rows
      .filter((r) => r.dataset === d.dataset)
      .sort((a, b) => a.process.localeCompare(b.process) || a.recipe.localeCompare(b.recipe) || a.sampler.localeCompare(b.sampler) || Number(a.guided === true) - Number(b.guided === true) || a.grid.localeCompare(b.grid) || a.targetNfe - b.targetNfe);
    for (const r of mine) {
      const c = s.comparisons.find((x) => x.dataset === r.dataset && x.recipe === r.recipe && x.sampler === r.sampler && x.grid === r.grid && x.targetNfe === r.targetNfe && x.guided === r.guided);
      lines.push(
        `| ${modelLabel(r)} | ${rowLabel(r)} | ${r.nfe} | ${pm(r.fid)} | ${pm(r.kid, 2, 1000)} | ${pm(r.kidStandardized, 2, 1000)} | ${pm(r.precision, 3)} | ${pm(r.recall, 3)} | ${pm(r.pixelSpread, 3)} | ${c ? CALL[c.better] : "-"} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** FID against NFE on log axes, one panel per dataset, a line per (model, sampler) with mean ± sd as a band. */
export function seedsFidSpec(s: SeedSummary): TopLevelSpec {
  const values = s.rows.map((r) => {
    // A log axis cannot show a band below 0: clip its low edge at a tenth of the mean.
    const lo = Math.max(r.fid.mean - r.fid.sd, r.fid.mean / 10);
    return { dataset: r.dataset, model: modelLabel(r), sampler: rowLabel(r), nfe: r.nfe, fid: r.fid.mean, lo, hi: r.fid.mean + r.fid.sd };
  });
  const floors = s.datasets.map((d) => ({ dataset: d.dataset, fid: d.floor.mean }));
  const x = { field: "nfe", type: "quantitative", scale: { type: "log" }, title: "network evaluations per image" } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `FID against network evaluations (profile ${s.profile}); bands: mean ± sd over seeds`,
    data: { values: [...values, ...floors.map((f) => ({ ...f, model: "real images (floor)", sampler: "", nfe: null }))] },
    facet: { field: "dataset", type: "nominal", title: null },
    columns: 2,
    spec: {
      width: 320,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.nfe !== null" }],
          mark: { type: "area", opacity: 0.15 },
          encoding: { x, y: { field: "lo", type: "quantitative", scale: { type: "log" } }, y2: { field: "hi" }, color: { field: "sampler", type: "nominal" }, detail: { field: "model" } },
        },
        {
          transform: [{ filter: "datum.nfe !== null" }],
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "fid", type: "quantitative", scale: { type: "log" }, title: "FID (classifier features)" },
            color: { field: "sampler", type: "nominal", legend: { title: "sampler" } },
            strokeDash: { field: "model", type: "nominal", legend: { title: "model" } },
          },
        },
        { transform: [{ filter: "datum.nfe === null" }], mark: { type: "rule", strokeDash: [2, 2], color: "gray" }, encoding: { y: { field: "fid", type: "quantitative" } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
    config: { font: "DejaVu Sans, Liberation Sans, Arial, sans-serif", background: "white" },
  };
}

/**
 * The (sampler, grid, NFE) whose grids a dataset shows side by side: of the pairs both processes ran with the
 * recipe, the one with the lowest sum of the two mean FIDs. The grid files are those of the model's run with the lowest
 * seed (of the runs that hold the dataset).
 */
export function sideBySideChoice(s: SeedSummary, dataset: BenchDataset, recipe = "edm"): { comparison: Comparison; files: Record<BenchProcess, string> } | null {
  const mine = s.comparisons.filter((c) => c.dataset === dataset && c.recipe === recipe).sort((a, b) => a.gbm.mean + a.vp.mean - (b.gbm.mean + b.vp.mean));
  const c = mine[0];
  if (!c) return null;
  // The run of the model's lowest seed that holds this dataset: runs of other datasets may share that seed.
  const root = (p: BenchProcess) => {
    const m = s.datasets.find((d) => d.dataset === dataset)?.models.find((x) => x.process === p && x.recipe === recipe);
    return m?.runs[0] ?? (s.runs[0] as { root: string }).root;
  };
  const file = (p: BenchProcess) => `${root(p)}/${dataset}/grids/${configKey(p, c.sampler, c.targetNfe, c.grid, c.guided === true)}.png`;
  return { comparison: c, files: { gbm: file("gbm"), vp: file("vp") } };
}
