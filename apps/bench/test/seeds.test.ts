import { compile } from "vega-lite";
import { describe, expect, it } from "vitest";
import type { Results, ResultRow } from "../src/report";
import { seedsFidSpec, sideBySideChoice, stat, summarize, summaryMarkdown, verdict, type SeedRun } from "../src/seeds";

/** A results.json of one run with the given FIDs per (process, sampler, NFE); other metrics derive from the FID. */
function run(seed: number, fids: Record<string, number>, o: { checkpoints?: Record<string, string>; recipe?: string; profile?: string; floor?: number; samples?: number; ema?: boolean } = {}): SeedRun {
  const rows: ResultRow[] = [
    { dataset: "mnist", process: "real", sampler: "training images", grid: null, targetNfe: null, nfe: null, steps: null, samples: 100, fid: o.floor ?? 0.5, kid: { mean: 0, std: 0 }, precision: 0.8, recall: 0.8, isClassifier: null, pixelSpread: 0.3, secondsPerImage: null, nonFinite: null },
  ];
  const processes = new Set<string>();
  for (const [key, fid] of Object.entries(fids)) {
    // "gbm:heun+g:20": an autoguided row.
    const [process, spec, nfe] = key.split(":") as ["gbm" | "vp", string, string];
    const guided = spec.endsWith("+g");
    const sampler = spec.replace(/\+g$/, "") as "heun" | "euler";
    processes.add(process);
    rows.push({
      ...(guided ? { guidance: { checkpoint: `/guides/${process}`, step: 5, weight: 2 } } : {}),
      dataset: "mnist",
      process,
      sampler,
      grid: "karras",
      targetNfe: Number(nfe),
      nfe: Number(nfe) - (sampler === "heun" ? 1 : 0),
      steps: 10,
      samples: o.samples ?? 100,
      fid,
      kid: { mean: fid / 1000, std: 0 },
      kidStandardized: { mean: fid / 100, std: 0 },
      precision: 1 / fid,
      recall: 0.5,
      isClassifier: null,
      pixelSpread: 0.3,
      secondsPerImage: 0.1,
      nonFinite: 0,
    });
  }
  const recipe = o.recipe ?? "edm";
  const training = Object.fromEntries([...processes].map((p) => [p, { source: "trained", preset: "tiny", steps: 10, batch: 8, lr: 1e-3, recipe, seconds: 1 }]));
  const checkpoints = Object.fromEntries([...processes].map((p) => [p, { path: o.checkpoints?.[p] ?? `/runs/s${seed}/mnist/models/${p}/checkpoint`, step: 10, ema: o.ema ?? true }]));
  const results = {
    app: "dale-bench",
    version: 1,
    profile: o.profile ?? "cpu-edm",
    budget: { train: { recipe } },
    seed,
    created: `2026-12-05T00:00:0${seed}Z`,
    features: "classifier",
    metricsNote: "",
    datasets: [{ dataset: "mnist", features: "classifier (98.0% test accuracy)", reference: { eval: "2000 mnist test images", floor: "" }, training, checkpoints, notes: [] }],
    rows,
  } as unknown as Results;
  return { root: `/runs/s${seed}`, results };
}

describe("stat and verdict", () => {
  it("gives the mean, the n - 1 standard deviation and the range", () => {
    const s = stat([1, 2, 3, 6]);
    expect(s.mean).toBe(3);
    expect(s.sd).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect([s.min, s.max, s.n]).toEqual([1, 6, 4]);
    expect(stat([5]).sd).toBe(0);
    expect(() => stat([])).toThrow(/no values/);
  });

  it("calls a difference only where mean +- sd do not overlap, and never with one seed", () => {
    expect(verdict(stat([10, 11, 12]), stat([20, 21, 22]))).toBe("gbm");
    expect(verdict(stat([20, 21, 22]), stat([10, 11, 12]))).toBe("vp");
    // Means 11 and 13, sds 1 and 1: the intervals [10, 12] and [12, 14] touch, so no call.
    expect(verdict(stat([10, 11, 12]), stat([12, 13, 14]))).toBe("none");
    expect(verdict(stat([10]), stat([20]))).toBe("none");
  });
});

describe("summarize", () => {
  const three = [
    run(0, { "gbm:heun:20": 10, "vp:heun:20": 20, "gbm:euler:20": 30, "vp:euler:20": 31 }, { floor: 0.4 }),
    run(1, { "gbm:heun:20": 11, "vp:heun:20": 21, "gbm:euler:20": 32, "vp:euler:20": 30 }, { floor: 0.5 }),
    run(2, { "gbm:heun:20": 12, "vp:heun:20": 22, "gbm:euler:20": 31, "vp:euler:20": 32 }, { floor: 0.6 }),
  ];

  it("merges the rows over the seeds, whatever order the runs come in", () => {
    const s = summarize([three[2], three[0], three[1]] as SeedRun[], "now");
    expect(s.runs.map((r) => r.seed)).toEqual([0, 1, 2]);
    const heun = s.rows.find((r) => r.process === "gbm" && r.sampler === "heun");
    expect(heun?.fid.values).toEqual([10, 11, 12]);
    expect(heun?.fid.mean).toBe(11);
    expect(heun?.fid.sd).toBe(1);
    expect(heun?.kid.mean).toBeCloseTo(0.011, 12);
    expect(heun?.kidStandardized?.mean).toBeCloseTo(0.11, 12);
    expect(heun?.nfe).toBe(19);
    expect(heun?.seeds).toEqual([0, 1, 2]);
    expect(s.datasets[0]?.floor.values).toEqual([0.4, 0.5, 0.6]);
    expect(s.datasets[0]?.models.map((m) => [m.process, m.kind, m.seeds])).toEqual([
      ["gbm", "training seeds", [0, 1, 2]],
      ["vp", "training seeds", [0, 1, 2]],
    ]);
  });

  it("compares GBM with VP per (sampler, NFE) and picks each process's best row for the headline", () => {
    const s = summarize(three);
    expect(s.comparisons.map((c) => [c.sampler, c.better])).toEqual([
      ["heun", "gbm"],
      ["euler", "none"],
    ]);
    expect(s.headlines).toHaveLength(1);
    const h = s.headlines[0];
    expect([h?.gbm.sampler, h?.vp.sampler, h?.better]).toEqual(["heun", "heun", "gbm"]);
    expect(h?.wins).toEqual({ gbm: 1, vp: 0, none: 1 });
    const md = summaryMarkdown(s, { mnist: "grids/mnist.png" });
    expect(md).toContain("| mnist | edm | heun, 19 | 11.00 ± 1.00 | heun, 19 | 21.00 ± 1.00 | GBM better | 1 / 0 / 1 |");
    expect(md).toContain("no clear difference");
    expect(md).toContain("![mnist: GBM and VP side by side](grids/mnist.png)");
    expect(md).toContain("3 training seeds (0, 1, 2)");
    expect(summaryMarkdown(summarize([three[0] as SeedRun]))).toContain("1 training seed (0)");
  });

  it("tells sampling seeds (one shared checkpoint) from training seeds", () => {
    const shared = { gbm: "/models/gbm", vp: "/models/vp" };
    const s = summarize([0, 1, 2].map((seed) => run(seed, { "gbm:heun:20": 10 + seed, "vp:heun:20": 20 }, { checkpoints: shared })));
    expect(s.datasets[0]?.models.map((m) => m.kind)).toEqual(["sampling seeds", "sampling seeds"]);
    expect(summaryMarkdown(s)).toContain("one model, `/models/gbm` at step 10");
  });

  it("keeps the reference recipe's model apart from the EDM recipe's", () => {
    const ref = [0, 1].map((seed) => run(seed, { "gbm:heun:20": 40 + seed }, { recipe: "reference" }));
    const s = summarize([...three, ...ref.map((r) => ({ ...r, root: `${r.root}-reference` }))]);
    const rows = s.rows.filter((r) => r.process === "gbm" && r.sampler === "heun");
    expect(rows.map((r) => [r.recipe, r.fid.n])).toEqual([
      ["edm", 3],
      ["reference", 2],
    ]);
    expect(s.datasets[0]?.floor.n).toBe(5);
    expect(summaryMarkdown(s)).toContain("| gbm (reference recipe) | heun | 19 | 40.50 ± 0.71 |");
  });

  it("refuses a missing row, a repeated seed and mixed profiles by name", () => {
    const partial = run(3, { "gbm:heun:20": 10, "vp:heun:20": 20, "gbm:euler:20": 30 });
    expect(() => summarize([...three, partial])).toThrow(/mnist\|vp\|edm\|euler\|karras\|20 is missing from \/runs\/s3/);
    expect(() => summarize([three[0] as SeedRun, { ...(three[0] as SeedRun), root: "/elsewhere" }])).toThrow(/both hold seed 0/);
    expect(() => summarize([three[0] as SeedRun, run(1, { "gbm:heun:20": 1 }, { profile: "cpu" })])).toThrow(/different profiles \(cpu-edm, cpu\)/);
    const fids = { "gbm:heun:20": 10, "vp:heun:20": 20, "gbm:euler:20": 30, "vp:euler:20": 31 };
    expect(() => summarize([...three, run(3, fids, { samples: 500 })])).toThrow(/the row mnist\|gbm\|edm\|heun\|karras\|20 has different samples in its runs \(100 in \/runs\/s0, .*500 in \/runs\/s3\); summarise runs made with the same --samples/);
    expect(() => summarize([...three, run(3, fids, { ema: false })])).toThrow(/has different weights in its runs \(EMA in \/runs\/s0, .*raw in \/runs\/s3\); summarise runs made with the same weights \(--eval-weights\)/);
    expect(() => summarize([])).toThrow(/at least one run/);
    expect(() => summarize([{ root: "/x", results: {} as Results }])).toThrow(/\/x does not hold a dale-bench results.json/);
  });

  it("plots bands that a log axis can draw, and chooses the pair of grids with the lowest FIDs", () => {
    const wide = summarize([run(0, { "gbm:heun:20": 1, "vp:heun:20": 20 }), run(1, { "gbm:heun:20": 9, "vp:heun:20": 21 })]);
    const spec = seedsFidSpec(wide);
    expect(() => compile(spec)).not.toThrow();
    const values = (spec.data as { values: { model: string; lo?: number; hi?: number; fid: number }[] }).values;
    const gbm = values.find((v) => v.model === "gbm");
    // mean 5, sd 5.66: the band's low edge is clipped at a tenth of the mean.
    expect(gbm?.lo).toBeCloseTo(0.5, 12);
    expect(gbm?.hi).toBeCloseTo(5 + Math.sqrt(32), 12);
    const choice = sideBySideChoice(summarize(three), "mnist");
    expect(choice?.comparison.sampler).toBe("heun");
    expect(choice?.files.gbm).toBe("/runs/s0/mnist/grids/gbm-heun-nfe20-karras.png");
    expect(sideBySideChoice(summarize(three), "cifar10")).toBeNull();
    // One run per dataset, both seed 0 (how the campaign runs): each dataset's grids come from its own run.
    const fashion = run(0, { "gbm:heun:20": 10, "vp:heun:20": 20 });
    const f = fashion.results as unknown as { datasets: { dataset: string }[]; rows: { dataset: string }[] };
    for (const x of [...f.datasets, ...f.rows]) x.dataset = "fashion-mnist";
    const both = summarize([three[0] as SeedRun, { root: "/runs/fashion-s0", results: fashion.results }]);
    expect(sideBySideChoice(both, "fashion-mnist")?.files.vp).toBe("/runs/fashion-s0/fashion-mnist/grids/vp-heun-nfe20-karras.png");
    expect(sideBySideChoice(both, "mnist")?.files.vp).toBe("/runs/s0/mnist/grids/vp-heun-nfe20-karras.png");
  });
});

describe("autoguided rows", () => {
  it("are rows of their own, compared with the other process's guided rows only, and labelled", () => {
    const fids = (k: number) => ({ "gbm:heun:20": 30 + k, "gbm:heun+g:20": 20 + k, "vp:heun:20": 31 + k, "vp:heun+g:20": 42 + k });
    const s = summarize([run(0, fids(0)), run(1, fids(1))]);
    expect(s.rows.map((r) => `${r.process} ${r.sampler}${r.guided ? "+g" : ""} ${r.fid.mean}`)).toEqual(["gbm heun 30.5", "gbm heun+g 20.5", "vp heun 31.5", "vp heun+g 42.5"]);
    expect(s.comparisons.map((c) => `${c.sampler}${c.guided ? "+g" : ""}: ${c.gbm.mean} / ${c.vp.mean} ${c.better}`)).toEqual(["heun: 30.5 / 31.5 none", "heun+g: 20.5 / 42.5 gbm"]);
    const md = summaryMarkdown(s, {});
    expect(md).toMatch(/\| gbm \| heun \+ autoguidance \| 19 \| 20\.50 ± 0\.71 \|/);
    expect(md).toMatch(/\| gbm \| heun \| 19 \| 30\.50 ± 0\.71 \|/);
    // The side-by-side grids are those of the pair with the lowest summed FID: the unguided one (62 against 63), then,
    // with a better guided VP, the guided one.
    const choice = sideBySideChoice(s, "mnist");
    expect(choice?.comparison.guided).toBeUndefined();
    expect(choice?.files.gbm).toBe("/runs/s0/mnist/grids/gbm-heun-nfe20-karras.png");
    const guidedBest = summarize([run(0, { ...fids(0), "vp:heun+g:20": 21 }), run(1, { ...fids(1), "vp:heun+g:20": 22 })]);
    expect(sideBySideChoice(guidedBest, "mnist")?.files.vp).toBe("/runs/s0/mnist/grids/vp-heun-nfe20-karras-guided.png");
  });
});
