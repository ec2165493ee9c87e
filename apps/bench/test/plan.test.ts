import { describe, expect, it } from "vitest";
import { solvers } from "@dale/samplers";
import { guidesOption, modelsOption, samplersOption } from "../src/options";
import { BENCH_SAMPLERS, chunkSeed, chunksOf, effectiveProfile, parseShard, processesOf, PROFILES, profileSchema, REFERENCE_SAMPLERS, sampleConfigs, samplerLabel, shardChunks, stepsForNfe } from "../src/plan";

const SOLVER_NAMES = ["euler", "heun", "edm-stochastic", "dpmpp-2m", "dpmpp-2m-sde"] as const;

describe("plan", () => {
  it("the profiles are valid", () => {
    for (const p of Object.values(PROFILES)) expect(() => profileSchema.parse(p)).not.toThrow();
  });

  it("matches each sampler's network evaluations to the target without exceeding it", () => {
    expect(stepsForNfe("dale-langevin", 20)).toEqual({ steps: 20, nfe: 20 });
    expect(stepsForNfe("euler-maruyama", 20)).toEqual({ steps: 20, nfe: 20 });
    // Heun with a final Euler step: 2 steps - 1 evaluations.
    expect(stepsForNfe("probability-flow", 20)).toEqual({ steps: 10, nfe: 19 });
    expect(stepsForNfe("probability-flow", 21)).toEqual({ steps: 11, nfe: 21 });
    // One predictor and one corrector evaluation per level.
    expect(stepsForNfe("predictor-corrector", 21)).toEqual({ steps: 10, nfe: 20 });
    for (const s of ["dale-langevin", "sign-agnostic", "probability-flow", "euler-maruyama", "predictor-corrector"] as const) {
      for (const n of [1, 2, 3, 10, 999]) {
        const r = stepsForNfe(s, n);
        expect(r.steps).toBeGreaterThanOrEqual(1);
        if (n >= 2) expect(r.nfe).toBeLessThanOrEqual(n);
      }
    }
  });

  it("has 3 GBM and 2 VP samplers per dataset, grid and NFE, with unique keys", () => {
    const configs = sampleConfigs(["mnist", "cifar10"], profileSchema.parse(PROFILES.quick));
    const perDataset = PROFILES.quick.nfe.length * PROFILES.quick.grids.length;
    expect(configs).toHaveLength(2 * 5 * perDataset);
    expect(configs.filter((c) => c.process === "gbm")).toHaveLength(2 * 3 * perDataset);
    const keys = configs.map((c) => `${c.dataset}/${c.key}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The uniform grid keeps the folder names of runs from before grids existed.
    expect(keys).toContain("mnist/gbm-dale-langevin-nfe10");
    expect(keys).toContain("mnist/gbm-dale-langevin-nfe10-karras");
  });

  it("sizes the solvers from their catalogue: heun at 35 takes 18 steps (NFE 35), dpmpp-2m at 20 takes 20", () => {
    expect(stepsForNfe("heun", 35)).toEqual({ steps: 18, nfe: 35 });
    expect(stepsForNfe("heun", 20)).toEqual({ steps: 10, nfe: 19 });
    expect(stepsForNfe("edm-stochastic", 20)).toEqual({ steps: 10, nfe: 19 });
    expect(stepsForNfe("dpmpp-2m", 20)).toEqual({ steps: 20, nfe: 20 });
    expect(stepsForNfe("dpmpp-2m-sde", 10)).toEqual({ steps: 10, nfe: 10 });
    expect(stepsForNfe("euler", 1)).toEqual({ steps: 1, nfe: 1 });
    for (const s of SOLVER_NAMES) {
      for (const n of [1, 2, 3, 10, 35, 50, 999]) {
        const steps = solvers[s].stepsForNfe(n);
        expect(stepsForNfe(s, n)).toEqual({ steps, nfe: solvers[s].nfe(steps) });
        expect(stepsForNfe(s, n).nfe).toBeLessThanOrEqual(n);
      }
    }
  });

  it("runs every solver on both processes, on one karras grid, with the catalogue's NFE and unique keys", () => {
    const profile = effectiveProfile("cpu", { samplers: [...BENCH_SAMPLERS], nfe: [10, 20, 35, 50] });
    expect(profile.samplers).toEqual([...REFERENCE_SAMPLERS, ...SOLVER_NAMES]);
    const configs = sampleConfigs(["mnist"], profile);
    // Reference samplers: 3 (GBM) + 2 (VP), on 2 time grids; solvers: 5 per process, on their one grid.
    expect(configs).toHaveLength(4 * ((3 + 2) * 2 + 5 * 2));
    for (const process of ["gbm", "vp"] as const) {
      for (const s of SOLVER_NAMES) {
        const rows = configs.filter((c) => c.process === process && c.sampler === s);
        expect(rows.map((c) => c.grid)).toEqual(["karras", "karras", "karras", "karras"]);
        expect(rows.map((c) => c.nfe)).toEqual([10, 20, 35, 50].map((n) => solvers[s].nfe(solvers[s].stepsForNfe(n))));
      }
    }
    const heun = configs.find((c) => c.process === "vp" && c.sampler === "heun" && c.targetNfe === 35);
    expect(heun).toMatchObject({ steps: 18, nfe: 35, key: "vp-heun-nfe35-karras" });
    expect(configs.find((c) => c.process === "gbm" && c.sampler === "dpmpp-2m" && c.targetNfe === 20)).toMatchObject({ steps: 20, nfe: 20, key: "gbm-dpmpp-2m-nfe20-karras" });
    const keys = configs.map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
    // A uniform-only run still gives the solvers their karras grid, and no uniform row.
    const uniform = sampleConfigs(["mnist"], effectiveProfile("quick", { samplers: ["dale-langevin", "heun"], grids: ["uniform"] }));
    expect(uniform.map((c) => c.key)).toEqual(["gbm-dale-langevin-nfe5", "gbm-dale-langevin-nfe10", "gbm-heun-nfe5-karras", "gbm-heun-nfe10-karras", "vp-heun-nfe5-karras", "vp-heun-nfe10-karras"]);
    expect(samplerLabel("heun", "karras")).toBe("heun (karras sigma grid)");
    expect(samplerLabel("dale-langevin", "karras")).toBe("dale-langevin (karras time grid)");
  });

  it("--guides adds an autoguided twin after each solver row of a guided process, with half the steps per NFE", () => {
    const profile = effectiveProfile("cpu-edm", { samplers: ["dale-langevin", "heun", "edm-stochastic", "dpmpp-2m"] });
    const plain = sampleConfigs(["mnist"], profile);
    const guided = sampleConfigs(["mnist"], profile, ["gbm"]);
    // The unguided rows are unchanged, in order; the twins are GBM's solver rows (3 solvers x 3 NFE), nothing for VP or
    // for Dale-Langevin (a reference sampler takes a score, not a denoiser).
    expect(guided.filter((c) => c.guided !== true)).toEqual(plain);
    const twins = guided.filter((c) => c.guided === true);
    expect(twins.map((c) => c.key)).toEqual(
      ["heun", "edm-stochastic", "dpmpp-2m"].flatMap((s) => [10, 20, 50].map((n) => `gbm-${s}-nfe${n}-karras-guided`)),
    );
    for (const t of twins) {
      const base = guided[guided.indexOf(t) - 1];
      expect(base).toMatchObject({ process: "gbm", sampler: t.sampler, targetNfe: t.targetNfe, grid: "karras" });
      expect(base?.guided).toBeUndefined();
      // Both networks run at every evaluation: the steps of half the budget, and the NFE counts both.
      const half = stepsForNfe(t.sampler, Math.floor(t.targetNfe / 2));
      expect(t.steps).toBe(half.steps);
      expect(t.nfe).toBe(2 * half.nfe);
      expect(t.nfe).toBeLessThanOrEqual(t.targetNfe);
    }
    expect(twins.find((c) => c.sampler === "edm-stochastic" && c.targetNfe === 20)).toMatchObject({ steps: 5, nfe: 18 });
    expect(stepsForNfe("heun", 10, 2)).toEqual({ steps: 3, nfe: 10 });
    expect(samplerLabel("heun", "karras", true)).toBe("heun + autoguidance (karras sigma grid)");
    expect(new Set(guided.map((c) => c.key)).size).toBe(guided.length);
  });

  it("--samplers picks the processes: a process none of them serves is left out", () => {
    expect(processesOf(effectiveProfile("quick", {}))).toEqual(["gbm", "vp"]);
    expect(processesOf(effectiveProfile("quick", { samplers: ["sign-agnostic"] }))).toEqual(["gbm"]);
    expect(processesOf(effectiveProfile("quick", { samplers: ["predictor-corrector"] }))).toEqual(["vp"]);
    expect(sampleConfigs(["mnist"], effectiveProfile("quick", { samplers: ["predictor-corrector"] })).every((c) => c.process === "vp")).toBe(true);
    expect(effectiveProfile("quick", { samplers: ["heun", "euler-maruyama", "heun"] }).samplers).toEqual(["euler-maruyama", "heun"]);
  });

  it("parses --samplers and --models, with errors that name the option", () => {
    expect(samplersOption("heun, dpmpp-2m,dale-langevin")).toEqual(["heun", "dpmpp-2m", "dale-langevin"]);
    expect(() => samplersOption("heun,ddim")).toThrow(/every item of --samplers must be one of dale-langevin, .*, euler, heun, edm-stochastic, dpmpp-2m, dpmpp-2m-sde, got "ddim"/);
    expect(() => samplersOption("heun,,euler")).toThrow(/--samplers must be a comma-separated list without empty items/);
    expect(() => samplersOption("")).toThrow(/--samplers must be a non-empty comma-separated list/);
    expect(modelsOption("gbm=checkpoints/mnist-gbm, vp = out/vp")).toEqual({ gbm: "checkpoints/mnist-gbm", vp: "out/vp" });
    expect(modelsOption("vp=a=b")).toEqual({ vp: "a=b" });
    expect(() => modelsOption("checkpoints/mnist-gbm")).toThrow(/every item of --models must be PROCESS=DIR \(e\.g\. gbm=checkpoints\/mnist-gbm\), got "checkpoints\/mnist-gbm"/);
    expect(() => modelsOption("ve=out/ve")).toThrow(/the process of every item of --models must be one of gbm, vp, got "ve"/);
    expect(() => modelsOption("gbm=")).toThrow(/every item of --models needs a checkpoint folder after "gbm="/);
    expect(() => modelsOption("gbm=a,gbm=b")).toThrow(/--models names gbm more than once/);
    expect(guidesOption("gbm=checkpoints/mnist-gbm/guide")).toEqual({ gbm: "checkpoints/mnist-gbm/guide" });
    expect(() => guidesOption("vp=a,vp=b")).toThrow(/--guides names vp more than once/);
    expect(() => guidesOption("guide")).toThrow(/every item of --guides must be PROCESS=DIR \(e\.g\. gbm=checkpoints\/mnist-gbm\/guide\), got "guide"/);
  });

  it("reads a run recorded before grids existed as uniform-only, and takes --grids in canonical order", () => {
    const { grids: _g, ...old } = PROFILES.cpu;
    expect(profileSchema.parse(old).grids).toEqual(["uniform"]);
    // ... and one from before solvers (no samplers in its bench.json) with the reference samplers, as the profiles do.
    expect(profileSchema.parse(old).samplers).toEqual([...REFERENCE_SAMPLERS]);
    expect(effectiveProfile("quick", {}).samplers).toEqual([...REFERENCE_SAMPLERS]);
    expect(effectiveProfile("quick", { grids: ["karras", "uniform", "karras"] }).grids).toEqual(["uniform", "karras"]);
    expect(effectiveProfile("quick", { grids: ["karras"] }).grids).toEqual(["karras"]);
  });

  it("chunks cover the samples once, with seeds that depend on the chunk and not on the shard split", () => {
    const [config] = sampleConfigs(["kmnist"], profileSchema.parse(PROFILES.full));
    const chunks = chunksOf(config!, profileSchema.parse(PROFILES.full), 3);
    expect(chunks.reduce((a, c) => a + c.count, 0)).toBe(PROFILES.full.samples);
    expect(chunks.map((c) => c.first)).toEqual(chunks.map((_, i) => i * PROFILES.full.chunk));
    expect(new Set(chunks.map((c) => c.seed)).size).toBe(chunks.length);
    expect(chunkSeed(3, "kmnist", "gbm", 5)).not.toBe(chunkSeed(3, "kmnist", "vp", 5));
    expect(chunkSeed(3, "kmnist", "gbm", 5)).not.toBe(chunkSeed(4, "kmnist", "gbm", 5));
    const quick = profileSchema.parse(PROFILES.quick);
    const all = sampleConfigs(["mnist", "kmnist"], quick).flatMap((c) => chunksOf(c, quick, 0));
    for (const n of [1, 2, 3, 7]) {
      const parts = Array.from({ length: n }, (_, i) => shardChunks(all, { index: i, count: n }));
      expect(parts.flat()).toHaveLength(all.length);
      expect(new Set(parts.flat())).toEqual(new Set(all));
    }
  });

  it("parses --shard and rejects what is not i/n with 0 <= i < n", () => {
    expect(parseShard("0/4")).toEqual({ index: 0, count: 4 });
    expect(parseShard(" 3/4 ")).toEqual({ index: 3, count: 4 });
    for (const bad of ["4/4", "1/0", "-1/3", "a/b", "2", "1/2/3"]) expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
  });
});

describe("effectiveProfile", () => {
  it("applies the overrides and leaves the rest of the profile as defined", () => {
    expect(effectiveProfile("full", {})).toEqual(profileSchema.parse(PROFILES.full));
    const p = effectiveProfile("full", { trainSteps: 500, trainImages: 20000, samples: 100, nfe: [50, 10, 10, 20], evalImages: 2000 });
    expect(p.train).toEqual({ ...PROFILES.full.train, steps: 500, checkpointEvery: 500, images: 20000, recipe: "reference", lrDecay: null, emaWarmup: false });
    expect(p.samples).toBe(100);
    expect(p.chunk).toBe(100); // a chunk is never larger than the row
    expect(p.nfe).toEqual([10, 20, 50]);
    expect(p.evalImages).toBe(2000);
    expect(p.model).toEqual(PROFILES.full.model);
  });

  it("cpu-edm trains with the EDM recipe and a decay that keeps its place when the steps change", () => {
    const p = effectiveProfile("cpu-edm", {});
    expect(p.train.recipe).toBe("edm");
    expect(p.train.lrDecay).toEqual({ start: 1200, end: 2000, final: 0.05 });
    expect(p.train.emaWarmup).toBe(true); // a plain 0.999 EMA would keep 13.5% of the random start after 2,000 steps
    expect(p.evalWeights).toBe("raw"); // the warmed-up EMA still trailed the raw weights in all 6 comparisons
    expect(p.samplers).toEqual(["euler", "heun", "edm-stochastic", "dpmpp-2m", "dpmpp-2m-sde"]);
    const short = effectiveProfile("cpu-edm", { trainSteps: 500 });
    expect(short.train.lrDecay).toEqual({ start: 300, end: 500, final: 0.05 });
    expect(short.train.checkpointEvery).toBe(250);
    // --recipe reference: the paper's process and weighting at the same budget, for the row that measures the recipe.
    const ref = effectiveProfile("cpu-edm", { recipe: "reference", samplers: ["dale-langevin"] });
    expect([ref.train.recipe, ref.train.lrDecay?.end, ref.train.steps]).toEqual(["reference", 2000, 2000]);
    expect(effectiveProfile("quick", { trainSteps: 10 }).train.lrDecay).toBeNull();
  });

  it("samples the EMA weights unless the profile or --eval-weights says raw; budgets stored before the choice read as EMA", () => {
    expect(effectiveProfile("cpu", {}).evalWeights).toBe("ema");
    expect(effectiveProfile("cpu", { evalWeights: "raw" }).evalWeights).toBe("raw");
    const { evalWeights: _w, ...old } = effectiveProfile("cpu", {});
    expect(profileSchema.parse(old).evalWeights).toBe("ema");
    expect(profileSchema.safeParse({ ...old, evalWeights: "average" }).success).toBe(false);
  });

  it("reads a budget stored before recipes as the reference recipe at a constant rate (old run folders stay valid)", () => {
    const { recipe: _r, lrDecay: _d, ...oldTrain } = effectiveProfile("cpu", {}).train;
    const stored = { ...effectiveProfile("cpu", {}), train: oldTrain };
    expect(JSON.stringify(profileSchema.parse(stored))).toBe(JSON.stringify(effectiveProfile("cpu", {})));
  });

  it("rejects a budget the schema does not allow", () => {
    expect(() => effectiveProfile("quick", { nfe: [] })).toThrow(/profile quick with the given overrides is invalid: nfe/);
    expect(() => effectiveProfile("quick", { samples: 0 })).toThrow(/samples/);
  });
});
