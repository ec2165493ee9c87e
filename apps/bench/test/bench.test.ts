// End to end: `dale-bench --profile quick` on all four datasets, then the sample stage again in two shards, which must
// reproduce the unsharded run's chunks byte for byte and its metrics exactly.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Results } from "../src/report";
import type { SeedSummary } from "../src/seeds";

const BIN = join(import.meta.dirname, "..", "dist", "bench.js");
const SUMMARY = join(import.meta.dirname, "..", "dist", "summarize.js");
const CLUSTER = join(import.meta.dirname, "..", "cluster");
const REPO = join(import.meta.dirname, "..", "..", "..");
const DATA = process.env.DALE_DATA_DIR;
const tmp = mkdtempSync(join(tmpdir(), "dale-bench-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a command on the wasm backend and collects its exit code and stderr. */
function exec(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, DALE_BACKEND: "wasm", ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

const run = (args: string[]) => exec(process.execPath, [BIN, ...args]);

/** Runs a shell script of cluster/ as a cluster runner would: bash, with the runner's variables in env. */
const runScript = (script: string, env: Record<string, string>, args: string[] = []) =>
  exec("bash", [join(CLUSTER, script), ...args], { DALE_BENCH: `${process.execPath} ${BIN}`, ...env }, REPO);

interface IndexedJob {
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    template: { spec: { containers: { command: string[]; args: string[]; env: { name: string; value: string }[] }[] } };
  };
}

function chunkFiles(root: string, dataset: string): string[] {
  const dir = join(root, dataset, "samples");
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".npy")).sort();
}

describe("dale-bench --profile quick", () => {
  const full = join(tmp, "full");

  it("runs on MNIST, Fashion-MNIST, KMNIST and CIFAR-10 and writes the results", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder (../shared/datasets; .ci/run does this)");
    // Two models train at a time, each in a worker thread running `train` of @dale/training.
    const r = await run(["--profile", "quick", "--out", full, "--data-dir", DATA, "--jobs", "2", "--quiet"]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(full, "results.json"), "utf8")) as Results;
    expect(results.datasets.map((d) => d.dataset)).toEqual(["mnist", "fashion-mnist", "kmnist", "cifar10"]);
    expect(results.rows).toHaveLength(4 * (1 + 5 * 2 * 2)); // real + 5 samplers x 2 NFE x 2 grids
    for (const d of results.datasets) {
      expect(d.features).toMatch(new RegExp(`^classifier:${d.dataset} \\(Dale CNN .*test accuracy`));
      const rows = results.rows.filter((r) => r.dataset === d.dataset);
      const floor = rows.find((r) => r.process === "real");
      // Real images against real images sit far below any model trained for 60 steps: a broken feature network,
      // reference set or metric would not keep this order.
      for (const row of rows) {
        expect(Number.isFinite(row.fid) && row.fid >= -1e-9).toBe(true);
        if (row.process !== "real") expect(row.fid).toBeGreaterThan(5 * (floor?.fid ?? Infinity));
        expect(row.precision).toBeGreaterThanOrEqual(0);
        expect(row.recall).toBeLessThanOrEqual(1);
        expect(row.pixelSpread).not.toBeNull();
        expect(row.pixelSpread as number).toBeGreaterThanOrEqual(0);
      }
      // Real digits and photos vary from image to image by a tenth or more of the pixel range.
      expect(floor?.pixelSpread as number).toBeGreaterThan(0.1);
      expect(existsSync(join(full, d.dataset, "grids", "gbm-dale-langevin-nfe10.png"))).toBe(true);
      expect(existsSync(join(full, d.dataset, "grids", "vp-euler-maruyama-nfe10-karras.png"))).toBe(true);
    }
    expect(results.datasets.find((d) => d.dataset === "kmnist")?.notes.join(" ")).toMatch(/KMNIST has no training images in our copy/);
    expect(readFileSync(join(full, "results.md"), "utf8")).toMatch(/\| gbm \| dale-langevin \| uniform \| 10 \|[\s\S]*\| gbm \| dale-langevin \| karras \| 10 \|/);
    expect(results.features).toBe("classifier");
    for (const kind of ["gbm", "vp"]) expect(readFileSync(join(full, "mnist", "models", `${kind}.log`), "utf8")).toMatch(/^done: step 60 in [\d.]+ s; checkpoint /m);
    expect(readFileSync(join(full, "fid-vs-nfe.png")).subarray(1, 4).toString()).toBe("PNG");
  }, 1_800_000);

  it("two shards of the sample stage reproduce the unsharded chunks and metrics exactly", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder");
    const sharded = join(tmp, "sharded");
    // The prepared models, classifier and real-image features of MNIST, without the samples.
    cpSync(join(full, "bench.json"), join(sharded, "bench.json"));
    cpSync(join(full, "mnist"), join(sharded, "mnist"), { recursive: true, filter: (src) => !src.includes(`${join("mnist", "samples")}`) && !src.includes("grids") });
    const common = ["--profile", "quick", "--out", sharded, "--data-dir", DATA, "--datasets", "mnist", "--quiet"];
    const early = await run([...common, "--stage", "report"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/chunks are missing .* run every shard of the sample stage/);
    // Shard 1 of 2 as a pod of the Kubernetes Indexed Job runs it (its command, with JOB_COMPLETION_INDEX), shard 0 as
    // a task of the Slurm array script (SLURM_ARRAY_TASK_ID); 2 shards instead of the manifests' 4.
    const job = parseYaml(readFileSync(join(CLUSTER, "k8s-indexed-job.yaml"), "utf8")) as IndexedJob;
    const container = job.spec.template.spec.containers[0]!;
    expect(container.command).toEqual(["bash", "apps/bench/cluster/shard.sh"]);
    const pod = await runScript("shard.sh", { JOB_COMPLETION_INDEX: "1", DALE_SHARDS: "2" }, common);
    expect(pod.code, pod.stderr).toBe(0);
    const task = await runScript("slurm-array.sh", { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "2", DALE_SHARDS: "2", DALE_REPO: REPO, DALE_BENCH_ARGS: common.join(" ") });
    expect(task.code, task.stderr).toBe(0);
    expect((await run([...common, "--stage", "report"])).code).toBe(0);
    const files = chunkFiles(full, "mnist");
    expect(files.length).toBe(10 * 2 * 2 * 2); // 5 samplers x 2 NFE x 2 grids, 2 chunks each, features and probabilities
    expect(chunkFiles(sharded, "mnist")).toEqual(files);
    for (const f of files) expect(readFileSync(join(sharded, "mnist", "samples", f)).equals(readFileSync(join(full, "mnist", "samples", f)))).toBe(true);
    const a = (JSON.parse(readFileSync(join(full, "results.json"), "utf8")) as Results).rows.filter((r) => r.dataset === "mnist");
    const b = (JSON.parse(readFileSync(join(sharded, "results.json"), "utf8")) as Results).rows;
    const strip = (rows: Results["rows"]) => rows.map(({ secondsPerImage: _s, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
  }, 1_800_000);

  it("a second sampling seed of the same models is measured with the same instrument, and dale-bench-summary merges the two", async () => {
    if (!DATA) throw new Error("set DALE_DATA_DIR to the datasets folder");
    const seed1 = join(tmp, "seed1");
    const models = `gbm=${join(full, "mnist", "models", "gbm")},vp=${join(full, "mnist", "models", "vp")}`;
    const r = await run(["--profile", "quick", "--out", seed1, "--data-dir", DATA, "--datasets", "mnist", "--seed", "1", "--models", models, "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    // The held-out images and the classifier do not depend on --seed: the real images' features are the same bytes.
    expect(readFileSync(join(seed1, "mnist", "reference-features.npy")).equals(readFileSync(join(full, "mnist", "reference-features.npy")))).toBe(true);
    const out = join(tmp, "summary");
    const s = await exec(process.execPath, [SUMMARY, "--runs", `${full},${seed1}`, "--out", out]);
    expect(s.code, s.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as SeedSummary;
    expect(summary.runs.map((x) => x.seed)).toEqual([0, 1]);
    expect(summary.datasets.find((d) => d.dataset === "mnist")?.models.map((m) => [m.process, m.kind, m.seeds])).toEqual([
      ["gbm", "sampling seeds", [0, 1]],
      ["vp", "sampling seeds", [0, 1]],
    ]);
    expect(summary.datasets.find((d) => d.dataset === "cifar10")?.models.map((m) => m.seeds)).toEqual([[0], [0]]);
    const pick = (root: string) =>
      (JSON.parse(readFileSync(join(root, "results.json"), "utf8")) as Results).rows.find((x) => x.dataset === "mnist" && x.process === "gbm" && x.sampler === "dale-langevin" && x.grid === "uniform" && x.targetNfe === 10)?.fid;
    const row = summary.rows.find((x) => x.dataset === "mnist" && x.process === "gbm" && x.sampler === "dale-langevin" && x.grid === "uniform" && x.targetNfe === 10);
    expect(row?.fid.values).toEqual([pick(full), pick(seed1)]);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toMatch(/gbm \(reference recipe\): 2 sampling seeds \(0, 1\)/);
    expect(readFileSync(join(out, "fid-vs-nfe.png")).subarray(1, 4).toString()).toBe("PNG");
    // The sharded folder repeats seed 0 of the same models: refused, naming both folders.
    const dup = await exec(process.execPath, [SUMMARY, "--runs", `${full},${join(tmp, "sharded")}`, "--out", join(tmp, "dup")]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/both hold seed 0/);
  }, 600_000);

  it("ships a Kubernetes Indexed Job and a Slurm array whose shard counts agree, and shard.sh names what is missing", async () => {
    const job = parseYaml(readFileSync(join(CLUSTER, "k8s-indexed-job.yaml"), "utf8")) as IndexedJob;
    expect(job.spec.completionMode).toBe("Indexed");
    const container = job.spec.template.spec.containers[0]!;
    const shards = Number(container.env.find((e) => e.name === "DALE_SHARDS")?.value);
    expect(shards).toBeGreaterThan(1);
    expect(job.spec.completions).toBe(shards);
    expect(job.spec.parallelism).toBe(shards);
    const slurm = readFileSync(join(CLUSTER, "slurm-array.sh"), "utf8");
    const array = /^#SBATCH --array=0-(\d+)$/m.exec(slurm);
    expect(array, "#SBATCH --array=0-N").not.toBeNull();
    expect(slurm).toMatch(new RegExp(`DALE_SHARDS="\\$\\{DALE_SHARDS:-${Number(array![1]) + 1}\\}"`));
    const noIndex = await runScript("shard.sh", { JOB_COMPLETION_INDEX: "", SLURM_ARRAY_TASK_ID: "", DALE_SHARDS: "2" });
    expect(noIndex.code).toBe(2);
    expect(noIndex.stderr).toMatch(/shard.sh: no shard index: set JOB_COMPLETION_INDEX .* or SLURM_ARRAY_TASK_ID/);
    const noCount = await runScript("shard.sh", { JOB_COMPLETION_INDEX: "0", DALE_SHARDS: "", SLURM_ARRAY_TASK_COUNT: "" });
    expect(noCount.code).toBe(2);
    expect(noCount.stderr).toMatch(/shard.sh: no shard count: set DALE_SHARDS/);
  });

  it("rejects bad options with messages that name them", async () => {
    const bad = await run(["--datasets", "mnist,svhn", "--out", join(tmp, "bad")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/option '--datasets <list>' argument 'mnist,svhn' is invalid\. every item of --datasets must be one of mnist, fashion-mnist, kmnist, cifar10, got "svhn"/);
    const shard = await run(["--shard", "2/2", "--out", join(tmp, "bad")]);
    expect(shard.stderr).toMatch(/--shard must be i\/n/);
    const stage = await run(["--shard", "0/2", "--stage", "report", "--out", join(tmp, "bad")]);
    expect(stage.stderr).toMatch(/--shard splits the sample stage only/);
    const other = await run(["--profile", "full", "--out", join(tmp, "full")]);
    expect(other.stderr).toMatch(/holds a run with profile quick, seed 0 and --features classifier; use another --out/);
    const budget = await run(["--train-steps", "61", "--out", join(tmp, "full")]);
    expect(budget.stderr).toMatch(/holds a run of profile quick with another budget .*"steps":60.*; give the same --train-steps/);
    const inception = await run(["--features", "inception", "--out", join(tmp, "full")]);
    expect(inception.stderr).toMatch(/use another --out for profile quick, seed 0, --features inception/);
    const weights = await run(["--features", "inception", "--inception-weights", join(tmp, "nothing.pth"), "--out", join(tmp, "bad-weights")]);
    expect(weights.code).toBe(1);
    expect(weights.stderr).toMatch(/--inception-weights: .*nothing\.pth does not exist/);
    const stray = await run(["--inception-weights", join(tmp, "nothing.pth"), "--out", join(tmp, "bad")]);
    expect(stray.stderr).toMatch(/--inception-weights and --download-weights need --features inception/);
    const jobs = await run(["--jobs", "0", "--out", join(tmp, "bad")]);
    expect(jobs.code).toBe(1);
    expect(jobs.stderr).toMatch(/option '--jobs <n>' argument '0' is invalid\. --jobs must be between 1 and 64, got 0/);
    const nfe = await run(["--nfe", "10,,20", "--out", join(tmp, "bad")]);
    expect(nfe.stderr).toMatch(/option '--nfe <list>' argument '10,,20' is invalid\. --nfe must be a comma-separated list without empty items/);
    const grids = await run(["--grids", "uniform,linear", "--out", join(tmp, "bad")]);
    expect(grids.stderr).toMatch(/every item of --grids must be one of uniform, karras, got "linear"/);
  });
});
