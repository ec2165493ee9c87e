import { describe, expect, it } from "vitest";
import { chunkSeed, chunksOf, effectiveProfile, parseShard, PROFILES, profileSchema, sampleConfigs, shardChunks, stepsForNfe } from "../src/plan";

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

  it("reads a run recorded before grids existed as uniform-only, and takes --grids in canonical order", () => {
    const { grids: _g, ...old } = PROFILES.cpu;
    expect(profileSchema.parse(old).grids).toEqual(["uniform"]);
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
    expect(p.train).toEqual({ ...PROFILES.full.train, steps: 500, checkpointEvery: 500, images: 20000 });
    expect(p.samples).toBe(100);
    expect(p.chunk).toBe(100); // a chunk is never larger than the row
    expect(p.nfe).toEqual([10, 20, 50]);
    expect(p.evalImages).toBe(2000);
    expect(p.model).toEqual(PROFILES.full.model);
  });

  it("rejects a budget the schema does not allow", () => {
    expect(() => effectiveProfile("quick", { nfe: [] })).toThrow(/profile quick with the given overrides is invalid: nfe/);
    expect(() => effectiveProfile("quick", { samples: 0 })).toThrow(/samples/);
  });
});
