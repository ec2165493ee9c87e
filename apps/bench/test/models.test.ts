// `dale-bench --models`: two tiny EDM-recipe checkpoints (2 steps each, trained here with `train` of @dale/training)
// evaluated end to end with reference samplers and solvers, on a budget smaller than the quick profile's;
// and a run folder written before --samplers and --models, which must still report.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { train } from "@dale/training";
import { afterAll, describe, expect, it } from "vitest";
import type { Results } from "../src/report";

const BIN = join(import.meta.dirname, "..", "dist", "bench.js");
const DATA = process.env.DALE_DATA_DIR;
const tmp = mkdtempSync(join(tmpdir(), "dale-bench-models-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DALE_BACKEND: "wasm" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

describe("dale-bench --models", () => {
  it("evaluates existing gbm and vp checkpoints instead of training, and names them in the results", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder (../shared/datasets; .ci/run does this)");
    for (const kind of ["gbm", "vp"] as const) {
      const trained = await train({ out: join(tmp, kind), dataset: "mnist", process: kind, recipe: "edm", model: "tiny", steps: 2, batch: 4, trainImages: 256, sampleCount: 0, dataDir: DATA });
      expect(trained.step).toBe(2);
    }
    const out = join(tmp, "run");
    // gbm as a dale-train --out folder, vp as its checkpoint folder (what dale-export writes has the same layout).
    const common = ["--profile", "quick", "--datasets", "mnist", "--out", out, "--data-dir", DATA, "--quiet"];
    const budget = ["--samplers", "dale-langevin,euler-maruyama,heun,dpmpp-2m", "--grids", "uniform", "--nfe", "3", "--samples", "16", "--eval-images", "64", "--train-images", "256"];
    const models = ["--models", `gbm=${join(tmp, "gbm")},vp=${join(tmp, "vp", "checkpoint")}`];
    const r = await run([...common, ...budget, ...models]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    // Nothing was trained in the run folder: no dale-train logs or checkpoints of its own.
    for (const kind of ["gbm", "vp"]) {
      expect(existsSync(join(out, "mnist", "models", `${kind}.log`))).toBe(false);
      expect(existsSync(join(out, "mnist", "models", kind, "checkpoint"))).toBe(false);
    }
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    const [mnist] = results.datasets;
    expect(mnist?.checkpoints).toEqual({ gbm: { path: join(tmp, "gbm", "checkpoint"), step: 2, ema: true }, vp: { path: join(tmp, "vp", "checkpoint"), step: 2, ema: true } });
    expect(mnist?.training.gbm).toMatchObject({ source: "checkpoint", preset: "tiny", recipe: "edm", dataset: "mnist" });
    // real + gbm (dale-langevin, heun, dpmpp-2m) + vp (euler-maruyama, heun, dpmpp-2m), at one NFE.
    expect(results.rows.map((row) => `${row.process} ${row.sampler} ${row.grid ?? "-"} ${row.nfe ?? "-"}`)).toEqual([
      "real training images - -",
      "gbm dale-langevin uniform 3",
      "gbm heun karras 3",
      "gbm dpmpp-2m karras 3",
      "vp euler-maruyama uniform 3",
      "vp heun karras 3",
      "vp dpmpp-2m karras 3",
    ]);
    for (const row of results.rows) for (const v of [row.fid, row.kid.mean, row.precision, row.recall]) expect(Number.isFinite(v)).toBe(true);
    const md = readFileSync(join(out, "results.md"), "utf8");
    expect(md).toContain(`- gbm: checkpoint \`${join(tmp, "gbm", "checkpoint")}\` at step 2 (EMA weights), given with --models`);
    expect(md).toContain(`- vp: checkpoint \`${join(tmp, "vp", "checkpoint")}\` at step 2 (EMA weights), given with --models`);
    expect(md).toMatch(/\| process \| sampler \| grid \| NFE \| FID \| KID x 1000 \| KID x 1000, standardised \| precision \| recall \|/);
    expect(md).toMatch(/\| vp \| heun \| karras sigma \| 3 \| [\d.*]+ \|/);
    expect(md).toContain("- gbm heun (karras sigma grid), NFE 3: [mnist/grids/gbm-heun-nfe3-karras.png]");
    expect(md).toMatch(/No model is trained by this run/);
    expect(existsSync(join(out, "mnist", "grids", "vp-dpmpp-2m-nfe3-karras.png"))).toBe(true);

    // The folder remembers its checkpoints: a later command must name the same ones.
    const other = await run([...common, ...budget, "--stage", "report"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/holds a run with --datasets mnist --models gbm=.*gbm,vp=.*checkpoint; give the same, or use another --out \(this command has no --models/);
    expect((await run([...common, ...budget, ...models, "--stage", "report"])).code).toBe(0);
    // A checkpoint of the other process is refused before anything is sampled.
    const swapped = await run([...common, ...budget, "--out", join(tmp, "swapped"), "--models", `gbm=${join(tmp, "vp")}`]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toMatch(/--models gbm=.*vp: that checkpoint was trained with the vp process, not gbm/);

    // --eval-weights raw samples the trained weights, not the EMA (which, two steps after a 0.999 EMA began, is still
    // close to the random start): the rows differ, and the results say which weights were used.
    const rawOut = join(tmp, "run-raw");
    const raw = await run([...common, "--out", rawOut, ...budget, ...models, "--eval-weights", "raw"]);
    expect(raw.stderr).not.toMatch(/error/);
    expect(raw.code).toBe(0);
    const rawResults = JSON.parse(readFileSync(join(rawOut, "results.json"), "utf8")) as Results;
    expect(rawResults.datasets[0]?.checkpoints.gbm).toEqual({ path: join(tmp, "gbm", "checkpoint"), step: 2, ema: false });
    const rawMd = readFileSync(join(rawOut, "results.md"), "utf8");
    expect(rawMd).toContain(`- gbm: checkpoint \`${join(tmp, "gbm", "checkpoint")}\` at step 2 (raw weights), given with --models`);
    expect(rawMd).toContain("drawn with each model's raw (not EMA) weights");
    const fidOf = (r: Results, key: string) => r.rows.find((row) => `${row.process} ${row.sampler}` === key)?.fid;
    expect(fidOf(rawResults, "gbm heun")).not.toBe(fidOf(results, "gbm heun"));
    // The run folder remembers the choice, and a chunk sampled with the other weights (a shard copied in from an EMA
    // run, or one from before the choice, which used the EMA) is refused by the report.
    const emaAgain = await run([...common, "--out", rawOut, ...budget, ...models, "--stage", "report"]);
    expect(emaAgain.code).toBe(1);
    expect(emaAgain.stderr).toMatch(/with another budget .*give the same .*--eval-weights as when it was made/);
    const chunk = join(rawOut, "mnist", "samples", readdirSync(join(rawOut, "mnist", "samples")).find((k) => k.startsWith("gbm-heun")) ?? "?", "chunk-00000.json");
    const info = JSON.parse(readFileSync(chunk, "utf8")) as { weights?: string };
    expect(info.weights).toBe("raw");
    for (const stale of [{ ...info, weights: "ema" }, { ...info, weights: undefined }]) {
      writeFileSync(chunk, JSON.stringify(stale));
      const refused = await run([...common, "--out", rawOut, ...budget, ...models, "--eval-weights", "raw", "--stage", "report"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/chunk-00000\.json was sampled with the ema weights of .*gbm.*checkpoint, but this run samples its raw weights \(evalWeights\)/);
    }
  }, 240_000);

  it("rejects --samplers and --models that do not fit, naming the option", async () => {
    const bad = join(tmp, "bad");
    const samplers = await run(["--samplers", "heun,ddim", "--out", bad]);
    expect(samplers.code).toBe(1);
    expect(samplers.stderr).toMatch(/option '--samplers <list>' argument 'heun,ddim' is invalid\. every item of --samplers must be one of dale-langevin, .*, dpmpp-2m-sde, got "ddim"/);
    const item = await run(["--datasets", "mnist", "--models", "checkpoints/mnist-gbm", "--out", bad]);
    expect(item.stderr).toMatch(/option '--models <list>' argument 'checkpoints\/mnist-gbm' is invalid\. every item of --models must be PROCESS=DIR/);
    const datasets = await run(["--datasets", "mnist,kmnist", "--models", "gbm=checkpoints/mnist-gbm", "--out", bad]);
    expect(datasets.stderr).toMatch(/--models evaluates the checkpoints of one dataset; give --datasets with one of/);
    const unserved = await run(["--datasets", "mnist", "--samplers", "dale-langevin", "--models", "vp=checkpoints/mnist-vp", "--out", bad]);
    expect(unserved.stderr).toMatch(/--models vp=checkpoints\/mnist-vp: none of the run's samplers \(dale-langevin\) runs on vp; add one to --samplers/);
    const missing = await run(["--datasets", "mnist", "--models", `gbm=${join(tmp, "nothing")}`, "--out", join(tmp, "missing")]);
    expect(missing.stderr).toMatch(/--models gbm=.*nothing: no checkpoint\.json there \(nor in its checkpoint\/ folder\)/);
  }, 120_000);

  it("a run folder from before --samplers and --models (no samplers, models or source recorded) still reports", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder");
    const out = join(tmp, "old");
    const args = ["--profile", "quick", "--datasets", "mnist", "--out", out, "--data-dir", DATA, "--quiet"];
    const budget = ["--train-steps", "2", "--grids", "uniform", "--nfe", "2", "--samples", "8", "--eval-images", "64", "--train-images", "256"];
    expect((await run([...args, ...budget])).code).toBe(0);
    // Back to what the bench wrote before: the default samplers were the only ones, and every model was trained.
    const manifest = JSON.parse(readFileSync(join(out, "bench.json"), "utf8")) as { budget: Record<string, unknown>; models?: unknown };
    expect(manifest.budget.samplers).toEqual(["dale-langevin", "sign-agnostic", "probability-flow", "euler-maruyama", "predictor-corrector"]);
    expect(manifest.models).toBeNull();
    delete manifest.budget.samplers;
    delete manifest.models;
    writeFileSync(join(out, "bench.json"), JSON.stringify(manifest));
    for (const kind of ["gbm", "vp"]) {
      const path = join(out, "mnist", "models", kind, "bench-train.json");
      const { source, ...record } = JSON.parse(readFileSync(path, "utf8")) as { source: string };
      expect(source).toBe("trained");
      writeFileSync(path, JSON.stringify(record));
    }
    const again = await run([...args, ...budget, "--stage", "report"]);
    expect(again.stderr).not.toMatch(/error/);
    expect(again.code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    expect(results.rows).toHaveLength(1 + 5);
    expect(results.datasets[0]?.checkpoints.gbm).toEqual({ path: join(out, "mnist", "models", "gbm", "checkpoint"), step: 2, ema: true });
    const md = readFileSync(join(out, "results.md"), "utf8");
    expect(md).toMatch(/- gbm: trained by this run: U-Net tiny, reference recipe, 2 steps x batch 8, \d+ s of training; checkpoint `mnist\/models\/gbm\/checkpoint` at step 2 \(EMA weights\)\./);
    expect(md).toMatch(/\| gbm \| dale-langevin \| uniform \| 2 \|/);
  }, 180_000);
});
