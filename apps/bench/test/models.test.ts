// `dale-bench --models`: two tiny EDM-recipe checkpoints (2 steps each, trained here with `train` of @dale/training)
// evaluated end to end with reference samplers and solvers, on a budget smaller than the quick profile's;
// autoguided rows (--guides); and a run folder written before --samplers and --models, which must still report.
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

/** Two tiny EDM-recipe checkpoints of MNIST, `tmp/gbm` and `tmp/vp` (2 steps each), trained once for the tests that use them. */
async function tinyModels(data: string): Promise<void> {
  for (const kind of ["gbm", "vp"] as const) {
    if (existsSync(join(tmp, kind, "checkpoint", "checkpoint.json"))) continue;
    const trained = await train({ out: join(tmp, kind), dataset: "mnist", process: kind, recipe: "edm", model: "tiny", steps: 2, batch: 4, trainImages: 256, sampleCount: 0, dataDir: data });
    expect(trained.step).toBe(2);
  }
}

describe("dale-bench --models", () => {
  it("evaluates existing gbm and vp checkpoints instead of training, and names them in the results", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder (../shared/datasets; .ci/run does this)");
    await tinyModels(DATA);
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

  it("--guides adds an autoguided twin of each solver row; with w = 1 it samples the model itself, at half the steps per NFE", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder");
    // The models of the first test, and a weaker GBM checkpoint of the same data (1 step) as the guide.
    await tinyModels(DATA);
    const guide = join(tmp, "guide");
    await train({ out: guide, dataset: "mnist", process: "gbm", recipe: "edm", model: "tiny", steps: 1, batch: 4, trainImages: 256, sampleCount: 0, dataDir: DATA });
    const out = join(tmp, "guided");
    const common = ["--profile", "quick", "--datasets", "mnist", "--out", out, "--data-dir", DATA, "--quiet"];
    const budget = ["--samplers", "heun,dpmpp-2m", "--nfe", "3,6", "--samples", "16", "--eval-images", "64", "--train-images", "256"];
    const models = ["--models", `gbm=${join(tmp, "gbm")},vp=${join(tmp, "vp")}`];
    const guides = ["--guides", `gbm=${guide}`, "--guidance", "1"];
    const r = await run([...common, ...budget, ...models, ...guides]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    const label = (row: Results["rows"][number]) => `${row.process} ${row.sampler}${row.guidance ? "+guide" : ""} ${row.targetNfe ?? "-"}: ${row.steps ?? "-"} steps, NFE ${row.nfe ?? "-"}`;
    // Only GBM has a guide; each guided row runs both networks per evaluation, so half the steps for the same budget.
    expect(results.rows.map(label)).toEqual([
      "real training images -: - steps, NFE -",
      "gbm heun 3: 2 steps, NFE 3",
      "gbm heun+guide 3: 1 steps, NFE 2",
      "gbm heun 6: 3 steps, NFE 5",
      "gbm heun+guide 6: 2 steps, NFE 6",
      "gbm dpmpp-2m 3: 3 steps, NFE 3",
      "gbm dpmpp-2m+guide 3: 1 steps, NFE 2",
      "gbm dpmpp-2m 6: 6 steps, NFE 6",
      "gbm dpmpp-2m+guide 6: 3 steps, NFE 6",
      "vp heun 3: 2 steps, NFE 3",
      "vp heun 6: 3 steps, NFE 5",
      "vp dpmpp-2m 3: 3 steps, NFE 3",
      "vp dpmpp-2m 6: 6 steps, NFE 6",
    ]);
    const guideDir = join(guide, "checkpoint");
    expect(results.rows.find((row) => row.guidance)?.guidance).toEqual({ checkpoint: guideDir, step: 1, weight: 1 });
    // D_guide + 1 (D - D_guide) = D: a guided row with w = 1 draws the images of the unguided row with the same steps
    // (the same chunk seeds), up to float rounding; so its FID matches, and the guide is wired to the right model.
    const fid = (sampler: string, nfe: number, guided: boolean) =>
      results.rows.find((row) => row.process === "gbm" && row.sampler === sampler && row.targetNfe === nfe && (row.guidance !== undefined) === guided)?.fid as number;
    for (const sampler of ["heun", "dpmpp-2m"]) {
      expect(Math.abs(fid(sampler, 6, true) - fid(sampler, 3, false))).toBeLessThan(1e-3 * fid(sampler, 3, false));
      expect(fid(sampler, 6, true)).not.toBe(fid(sampler, 6, false));
    }
    const md = readFileSync(join(out, "results.md"), "utf8");
    expect(md).toContain(`- gbm guide (autoguidance, --guides): checkpoint \`${guideDir}\` at step 1, weight w = 1;`);
    expect(md).toMatch(/\| gbm \| heun \+ autoguidance \(w 1\) \| karras sigma \| 6 \| [\d.*]+ \|/);
    expect(md).toContain("- gbm heun + autoguidance (karras sigma grid), NFE 6: [mnist/grids/gbm-heun-nfe6-karras-guided.png]");
    expect(existsSync(join(out, "mnist", "grids", "gbm-heun-nfe6-karras-guided.png"))).toBe(true);

    // The folder remembers its guides and weight.
    const other = await run([...common, ...budget, ...models, "--guides", `gbm=${guide}`, "--guidance", "2", "--stage", "report"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/holds a run with --guides gbm=.*guide --guidance 1; give the same, or use another --out \(this command has --guides gbm=.*guide --guidance 2\)/);
    // With w = 2 the guide changes the images (2 D - D_guide): the guided row no longer matches its unguided steps.
    const w2 = join(tmp, "guided-w2");
    const r2 = await run([...common, "--out", w2, "--samplers", "dpmpp-2m", "--nfe", "6", "--samples", "16", "--eval-images", "64", "--train-images", "256", ...models, "--guides", `gbm=${guide}`]);
    expect(r2.code, r2.stderr).toBe(0);
    const w2Results = JSON.parse(readFileSync(join(w2, "results.json"), "utf8")) as Results;
    const w2Row = w2Results.rows.find((row) => row.guidance !== undefined);
    expect(w2Row).toMatchObject({ process: "gbm", sampler: "dpmpp-2m", steps: 3, nfe: 6, guidance: { checkpoint: guideDir, step: 1, weight: 2 } });
    expect(Math.abs((w2Row?.fid as number) - fid("dpmpp-2m", 3, false))).toBeGreaterThan(1e-3 * fid("dpmpp-2m", 3, false));

    // A chunk of a guided row that another guide drew is refused by the report.
    const chunk = join(out, "mnist", "samples", "gbm-heun-nfe6-karras-guided", "chunk-00000.json");
    const info = JSON.parse(readFileSync(chunk, "utf8")) as { guide: { weight: number } };
    expect(info.guide).toEqual({ checkpoint: guideDir, step: 1, weight: 1 });
    writeFileSync(chunk, JSON.stringify({ ...info, guide: { ...info.guide, weight: 3 } }));
    const stale = await run([...common, ...budget, ...models, ...guides, "--stage", "report"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/chunk-00000\.json was sampled with the guide .*guide.*checkpoint \(step 1, w 3\), but this row uses the guide .*\(step 1, w 1\)/);
    // A guide of the other process is refused before anything is sampled.
    const wrong = await run([...common, ...budget, ...models, "--out", join(tmp, "wrong-guide"), "--guides", `gbm=${join(tmp, "vp")}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/--guides gbm=.*vp: the guide .* has another/);
  }, 300_000);

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
    const guideItem = await run(["--datasets", "mnist", "--guides", "checkpoints/mnist-gbm/guide", "--out", bad]);
    expect(guideItem.stderr).toMatch(/option '--guides <list>' argument 'checkpoints\/mnist-gbm\/guide' is invalid\. every item of --guides must be PROCESS=DIR/);
    const noSolver = await run(["--datasets", "mnist", "--samplers", "dale-langevin", "--guides", "gbm=checkpoints/mnist-gbm/guide", "--out", bad]);
    expect(noSolver.stderr).toMatch(/--guides gbm=checkpoints\/mnist-gbm\/guide: autoguidance combines denoisers, which only the solvers take, and none of the run's samplers \(dale-langevin\) is a solver on gbm/);
    const weightAlone = await run(["--datasets", "mnist", "--guidance", "2", "--out", bad]);
    expect(weightAlone.stderr).toMatch(/--guidance sets the weight of autoguidance; give --guides too/);
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
