import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ScoreModel } from "@dale/models";
import { loadCheckpoint } from "@dale/models/node";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeNpy } from "@dale/data";
import { BatchOrder } from "@dale/training";

const root = fileURLToPath(new URL("..", import.meta.url));
// The bins under test: dist/, or another build of the app (DALE_TRAINER_DIST=dist-dev while dist/ is in use).
const DIST = process.env.DALE_TRAINER_DIST ? resolve(root, process.env.DALE_TRAINER_DIST) : join(root, "dist");
const TRAIN = join(DIST, "train.js");
const SAMPLE = join(DIST, "sample.js");
const EXPORT = join(DIST, "export.js");
const fixture = (name: string) => join(root, "test/fixtures", name);
// Small and fast: the tiny U-Net, batch 8, a 4-image grid with 2 sampler steps at the end of each run.
const COMMON = ["--model", "tiny", "--batch", "8", "--checkpoint-every", "2", "--sample-count", "4", "--sample-steps", "2", "--log-every", "1"];

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  pid: number;
}

/** Runs a bin as a child process; `onStderr` may kill it (SIGKILL unless told otherwise). */
function run(bin: string, args: string[], onStderr?: (text: string, kill: (signal?: NodeJS.Signals) => void) => void): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, DALE_BACKEND: "wasm" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, (signal = "SIGKILL") => child.kill(signal));
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code, signal, stderr, pid: child.pid as number }));
  });
}

const lockOf = (dir: string) => join(dir, "train.lock");

const bytes = (dir: string, file: string) => readFileSync(join(dir, "checkpoint", file));
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, "checkpoint", "checkpoint.json"), "utf8")) as { step: number; extra: { position: { step: number } } };

let tmp: string;
beforeAll(() => {
  if (!existsSync(TRAIN) || !existsSync(SAMPLE)) throw new Error("build first: pnpm --filter @dale/trainer build (turbo's test task does it).");
  tmp = mkdtempSync(join(tmpdir(), "dale-trainer-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("dale-train: exact resume", () => {
  it("train 8 = train 4 + resume to 8 = killed with SIGKILL after the first checkpoint + resume to 8, byte for byte", async () => {
    const [a, b, c] = ["a", "b", "c"].map((n) => join(tmp, n)) as [string, string, string];
    const straight = run(TRAIN, [...COMMON, "--steps", "8", "--out", a]);
    const killed = run(TRAIN, [...COMMON, "--steps", "8", "--out", c], (text, kill) => {
      if (/step 3\//.test(text)) kill(); // the checkpoint of step 2 is complete before step 3 starts
    });
    const [ra, rc] = await Promise.all([straight, killed]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rc.signal).toBe("SIGKILL");
    expect(manifest(c).step).toBeGreaterThanOrEqual(2);

    const rb1 = await run(TRAIN, [...COMMON, "--steps", "4", "--out", b]);
    expect(rb1.code, rb1.stderr).toBe(0);
    const [rb2, rc2] = await Promise.all([
      run(TRAIN, [...COMMON, "--steps", "8", "--resume", "--out", b]),
      run(TRAIN, [...COMMON, "--steps", "8", "--resume", "--out", c]),
    ]);
    expect(rb2.code, rb2.stderr).toBe(0);
    expect(rb2.stderr).toMatch(/resumed from .* at step 4/);
    expect(rc2.code, rc2.stderr).toBe(0);
    // The SIGKILLed run left its lock behind; the resume took it over, and every run removed its own at the end.
    expect(rc2.stderr).toContain(`train.lock was left by process ${rc.pid} on ${hostname()}`);
    for (const dir of [a, b, c]) expect(existsSync(lockOf(dir)), dir).toBe(false);

    for (const dir of [b, c]) {
      expect(manifest(dir).step).toBe(8);
      expect(bytes(dir, "model.safetensors").equals(bytes(a, "model.safetensors"))).toBe(true);
      expect(bytes(dir, "ema.safetensors").equals(bytes(a, "ema.safetensors"))).toBe(true);
      expect(bytes(dir, "optimizer.safetensors").equals(bytes(a, "optimizer.safetensors"))).toBe(true);
      expect(readFileSync(join(dir, "loss.csv"), "utf8")).toBe(readFileSync(join(a, "loss.csv"), "utf8"));
      // Only the latest checkpoint is kept, behind the atomically replaced link.
      expect(readlinkSync(join(dir, "checkpoint"))).toMatch(/^checkpoints[/\\]step-00000008-/);
    }
    expect(readFileSync(join(a, "loss.csv"), "utf8").trim().split("\n")).toHaveLength(9);
    expect(existsSync(join(a, "loss.png"))).toBe(true);
    expect(existsSync(join(a, "samples-8.png"))).toBe(true);

    // A fresh run into a folder that holds a checkpoint is refused (no silent overwrite).
    const again = await run(TRAIN, [...COMMON, "--steps", "2", "--out", a]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--resume/);
  });
});

describe("dale-train: a non-finite loss", () => {
  it("stops with exit code 2, names the step, and leaves the last checkpoint intact", async () => {
    const out = join(tmp, "nan");
    const module = fixture("nan-after-2.mjs");
    const r = await run(TRAIN, ["--model-module", module, "--batch", "8", "--steps", "6", "--checkpoint-every", "1", "--log-every", "1", "--out", out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/not finite \(NaN\) at step 3/);
    expect(r.stderr).toMatch(/last good checkpoint is .*checkpoint .* at step 2/);
    expect(manifest(out).step).toBe(2);
    expect(existsSync(lockOf(out))).toBe(false);
    const { createModel } = (await import(module)) as { createModel: (c: unknown) => ScoreModel };
    const model = createModel({ imageSize: [28, 28], channels: 1, seed: 0, process: "gbm" });
    const ckpt = await loadCheckpoint(join(out, "checkpoint"), { model });
    expect(ckpt.step).toBe(2);
    for (const w of ckpt.optimizerWeights ?? []) w.tensor.dispose();
    ckpt.ema?.dispose();
  });
});

describe("a user's plain-tfjs network, then dale-sample", () => {
  it("trains, samples a valid PNG and .npy, and rejects a sampler of the other family", async () => {
    const out = join(tmp, "plain");
    const module = fixture("plain-net.mjs");
    const r = await run(TRAIN, ["--model-module", module, "--batch", "8", "--steps", "3", "--sample-count", "4", "--sample-steps", "2", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(manifest(out).step).toBe(3);

    const png = join(out, "grid.png");
    const npy = join(out, "samples.npy");
    const s = await run(SAMPLE, ["--checkpoint", out, "--model-module", module, "--n", "6", "--batch", "4", "--steps", "5", "--out", png, "--out-npy", npy]);
    expect(s.code, s.stderr).toBe(0);
    const image = PNG.sync.read(readFileSync(png));
    expect(image.width).toBe(3 * 30 + 2); // ceil(sqrt(6)) = 3 columns of 28 + 2 px padding
    expect(image.height).toBe(2 * 30 + 2);
    const { shape, data } = decodeNpy(readFileSync(npy));
    expect(shape).toEqual([6, 28, 28, 1]);
    expect(data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const raw = readFileSync(npy);
    expect(raw.subarray(0, 6).toString("latin1")).toBe("\x93NUMPY");
    expect((10 + raw.readUInt16LE(8)) % 64).toBe(0);

    const wrong = await run(SAMPLE, ["--checkpoint", out, "--model-module", module, "--sampler", "euler-maruyama", "--n", "2"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/additive .* trained with GBM/);

    // The karras grid (and --no-denoise) reach the sampler; its options are refused without it, by name.
    const k = await run(SAMPLE, ["--checkpoint", out, "--model-module", module, "--n", "4", "--batch", "4", "--steps", "5", "--grid", "karras", "--rho", "3", "--out", join(out, "karras.png"), "--out-npy", join(out, "karras.npy")]);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stderr).toMatch(/"grid":"karras","rho":3/);
    const kData = decodeNpy(readFileSync(join(out, "karras.npy"))).data;
    expect(kData.some((v, i) => Math.abs(v - (data[i] as number)) > 1e-4)).toBe(true);
    const noRho = await run(SAMPLE, ["--checkpoint", out, "--model-module", module, "--n", "2", "--rho", "3"]);
    expect(noRho.code).toBe(1);
    expect(noRho.stderr).toMatch(/--rho and --t-min shape the karras grid; add --grid karras/);
    const ode = await run(SAMPLE, ["--checkpoint", out, "--model-module", module, "--sampler", "probability-flow", "--n", "2", "--no-denoise"]);
    expect(ode.code).toBe(1);
    expect(ode.stderr).toMatch(/--no-denoise apply to dale-langevin and sign-agnostic, not probability-flow/);

    // dale-export: F16 weights and EMA, no optimizer state; dale-sample reads it, and its samples match the F32
    // checkpoint's up to F16 rounding of the weights.
    const small = join(tmp, "plain-export");
    const e = await run(EXPORT, ["--checkpoint", out, "--model-module", module, "--out", small]);
    expect(e.code, e.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(small, "checkpoint.json"), "utf8")) as { step: number; dtype: string; files: Record<string, unknown> };
    expect(m.step).toBe(3);
    expect(m.dtype).toBe("F16");
    expect(Object.keys(m.files).sort()).toEqual(["ema", "model"]);
    const npy16 = join(small, "samples.npy");
    const s16 = await run(SAMPLE, ["--checkpoint", small, "--model-module", module, "--n", "6", "--batch", "4", "--steps", "5", "--out", join(small, "grid.png"), "--out-npy", npy16]);
    expect(s16.code, s16.stderr).toBe(0);
    const d16 = decodeNpy(readFileSync(npy16)).data;
    expect(Math.max(...d16.map((v, i) => Math.abs(v - (data[i] as number))))).toBeLessThan(0.05);
    const again = await run(EXPORT, ["--checkpoint", out, "--model-module", module, "--out", small]);
    expect(again.stderr).toMatch(/already holds a checkpoint/);
    // Nor into a run folder: its checkpoint link counts as a checkpoint too.
    const intoRun = await run(EXPORT, ["--checkpoint", small, "--model-module", module, "--out", out]);
    expect(intoRun.code).toBe(1);
    expect(intoRun.stderr).toMatch(/already holds a checkpoint \(checkpoint\)/);
    expect(existsSync(lockOf(out))).toBe(false);
  });
});

describe("one writer per run folder (<out>/train.lock)", () => {
  it("two trainers started together on one folder: one trains, the other is refused naming the holder", async () => {
    const out = join(tmp, "two");
    const args = ["--model", "tiny", "--batch", "8", "--steps", "6", "--checkpoint-every", "2", "--sample-count", "0", "--log-every", "1", "--out", out];
    const results = await Promise.all([run(TRAIN, args), run(TRAIN, args)]);
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    expect(winners, results.map((r) => r.stderr).join("\n----\n")).toHaveLength(1);
    const [winner, loser] = [winners[0] as Result, losers[0] as Result];
    expect(loser.code, loser.stderr).toBe(1);
    expect(loser.stderr).toContain(`${out} is being written by process ${winner.pid} on this host (${hostname()}), started `);
    expect(loser.stderr).toMatch(/A run folder has one writer: wait for that process to end \(or stop it\), or give dale-train another --out/);
    expect(loser.stderr).not.toMatch(/\[train\] backend/); // refused before it read or wrote anything
    const rows = readFileSync(join(out, "loss.csv"), "utf8").trim().split("\n");
    expect(rows[0]).toBe("step,loss");
    expect(rows.slice(1).map((l) => Number(l.split(",")[0]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(manifest(out).step).toBe(6);
    expect(existsSync(lockOf(out))).toBe(false);
  });

  it("recovers a stale lock (a dead pid on this host) with a note; refuses a lock of another host", async () => {
    const dead = await new Promise<number>((done, reject) => {
      const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" }); // a pid that no longer runs
      child.on("error", reject);
      child.on("close", () => done(child.pid as number));
    });
    const out = join(tmp, "stale");
    mkdirSync(out, { recursive: true });
    writeFileSync(lockOf(out), JSON.stringify({ pid: dead, hostname: hostname(), startedAt: "2026-01-01T00:00:00.000Z", argv: ["node", "train.js"] }));
    const r = await run(TRAIN, ["--model", "tiny", "--batch", "8", "--steps", "2", "--sample-count", "0", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`[train] note: ${lockOf(out)} was left by process ${dead} on ${hostname()} (started 2026-01-01T00:00:00.000Z), which is no longer running; taking it over.`);
    expect(existsSync(lockOf(out))).toBe(false);

    const elsewhere = JSON.stringify({ pid: dead, hostname: `not-${hostname()}`, startedAt: "2026-01-01T00:00:00.000Z", argv: ["node", "train.js", "--steps", "9"] });
    writeFileSync(lockOf(out), elsewhere);
    const refused = await run(TRAIN, ["--model", "tiny", "--batch", "8", "--steps", "3", "--resume", "--out", out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is being written by process ${dead} on another host (not-${hostname()}), started 2026-01-01T00:00:00.000Z: --steps 9`);
    expect(refused.stderr).toMatch(/This host cannot see whether it is still running; if it is not, delete .*train\.lock/);
    expect(readFileSync(lockOf(out), "utf8")).toBe(elsewhere); // someone else's lock is left alone
  });

  it("dale-export refuses a folder being trained; SIGTERM ends the trainer and removes its lock", async () => {
    const out = join(tmp, "busy");
    const handle: { kill?: (signal?: NodeJS.Signals) => void; reached?: () => void } = {};
    const atStep3 = new Promise<null>((r) => (handle.reached = () => r(null)));
    const trainer = run(TRAIN, [...COMMON, "--steps", "10000", "--out", out], (text, kill) => {
      if (handle.kill === undefined && /step 3\//.test(text)) {
        handle.kill = kill; // the checkpoint of step 2 is complete
        handle.reached?.();
      }
    });
    const early = await Promise.race([atStep3, trainer]);
    expect(early, early?.stderr).toBeNull();
    const e = await run(EXPORT, ["--checkpoint", out, "--out", out]);
    expect(e.code).toBe(1);
    const holder = JSON.parse(readFileSync(lockOf(out), "utf8")) as { pid: number; hostname: string; startedAt: string; argv: string[] };
    expect(holder.hostname).toBe(hostname());
    expect(holder.argv).toContain("--out");
    expect(e.stderr).toContain(`${out} is being written by process ${holder.pid} on this host`);
    expect(e.stderr).toMatch(/give dale-export another --out/);
    handle.kill?.("SIGTERM");
    const t = await trainer;
    expect(t.pid).toBe(holder.pid);
    expect(t.signal, t.stderr).toBe("SIGTERM");
    expect(existsSync(lockOf(out))).toBe(false);
    expect(manifest(out).step).toBeGreaterThanOrEqual(2);
  });

  it("SIGTERM stops a run that writes nothing between steps (no checkpoint, no grid), and its lock goes", async () => {
    // On wasm every await in a step resolves as a microtask; without one turn of the event loop per step the signal
    // handler that releases the lock never ran, so the process could not be stopped by SIGTERM at all.
    const out = join(tmp, "sigterm");
    const handle: { kill?: (signal?: NodeJS.Signals) => void; reached?: () => void } = {};
    const atStep3 = new Promise<null>((r) => (handle.reached = () => r(null)));
    const args = ["--model", "tiny", "--batch", "8", "--checkpoint-every", "0", "--sample-count", "0", "--log-every", "1", "--steps", "100000", "--out", out];
    const trainer = run(TRAIN, args, (text, kill) => {
      if (handle.kill === undefined && /step 3\//.test(text)) {
        handle.kill = kill;
        handle.reached?.();
      }
    });
    const early = await Promise.race([atStep3, trainer]);
    expect(early, early?.stderr).toBeNull();
    handle.kill?.("SIGTERM");
    const t = await trainer;
    expect(t.signal, t.stderr).toBe("SIGTERM");
    expect(existsSync(lockOf(out))).toBe(false);
  }, 60_000);

  it("in one process: a second acquire is refused, release removes only its own lock", async () => {
    const { acquireRunLock } = await import("@dale/training");
    const out = join(tmp, "in-process");
    mkdirSync(out, { recursive: true });
    const lock = acquireRunLock(out, { argv: ["node", "x"], what: "dale-train"});
    expect(JSON.parse(readFileSync(lockOf(out), "utf8"))).toEqual(lock.info);
    expect(() => acquireRunLock(out, { argv: [], what: "dale-train"})).toThrow(`is being written by process ${process.pid} on this host`);
    lock.release();
    expect(existsSync(lockOf(out))).toBe(false);
    // A lock naming this process that it does not hold (a previous process with the same pid) is stale.
    writeFileSync(lockOf(out), JSON.stringify({ ...lock.info, startedAt: "2026-01-01T00:00:00.000Z" }));
    const again = acquireRunLock(out, { argv: [], what: "dale-train"});
    writeFileSync(lockOf(out), "taken over by someone else");
    again.release();
    expect(readFileSync(lockOf(out), "utf8")).toBe("taken over by someone else");
  });
});

describe("opening a checkpoint never runs code it names", () => {
  it("a function model needs --model-module: the module stored in checkpoint.json is shown, not imported", async () => {
    const out = join(tmp, "untrusted");
    const module = fixture("plain-net.mjs");
    const r = await run(TRAIN, ["--model-module", module, "--batch", "8", "--steps", "2", "--sample-count", "0", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    // An edited checkpoint.json names a module that would leave a marker file behind if it were imported.
    const marker = join(tmp, "untrusted-imported");
    const evil = join(tmp, "evil-net.mjs");
    writeFileSync(evil, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "imported");\nexport { createModel } from ${JSON.stringify(pathToFileURL(module).href)};\n`);
    const path = join(out, "checkpoint", "checkpoint.json");
    const json = JSON.parse(readFileSync(path, "utf8")) as { extra: { config: { modelModule: string } } };
    json.extra.config.modelModule = evil;
    writeFileSync(path, JSON.stringify(json));

    const s = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--steps", "2", "--out", join(out, "grid.png")]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/holds a function model \(fromFunction\), whose network is JavaScript code, not data: it is rebuilt only by a module that you name with --model-module <path>/);
    expect(s.stderr).toMatch(/a checkpoint from elsewhere could name any file and importing it would run that code/);
    expect(s.stderr).toContain(`The checkpoint names ${JSON.stringify(evil)}`);
    const e = await run(EXPORT, ["--checkpoint", out, "--out", join(tmp, "untrusted-export")]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/name with --model-module <path>/);
    const resumed = await run(TRAIN, ["--batch", "8", "--steps", "3", "--resume", "--out", out]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(/--resume: this run's network is a function model, i\.e\. code; dale-train imports a --model-module only when the command line names it/);
    expect(existsSync(lockOf(out))).toBe(false);
    expect(existsSync(marker)).toBe(false);

    // Named on the command line, the module is imported (the one named, not the stored one).
    const ok = await run(SAMPLE, ["--checkpoint", out, "--model-module", module, "--n", "2", "--steps", "2", "--out", join(out, "grid.png")]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(out, "grid.png"))).toBe(true);
    expect(existsSync(marker)).toBe(false);
    const named = await run(SAMPLE, ["--checkpoint", out, "--model-module", evil, "--n", "2", "--steps", "2", "--out", join(out, "grid2.png")]);
    expect(named.code, named.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

/** The float32 tensors of a safetensors file, by name. */
function safetensors(buf: Buffer): Map<string, Float32Array> {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out = new Map<string, Float32Array>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__" || entry.dtype !== "F32") continue;
    const [begin, end] = entry.data_offsets;
    const bytesOf = buf.subarray(8 + n + begin, 8 + n + end);
    out.set(name, new Float32Array(bytesOf.buffer.slice(bytesOf.byteOffset, bytesOf.byteOffset + bytesOf.length)));
  }
  return out;
}

describe("dale-train --workers", () => {
  it("6 steps with --workers 1 give the weights of --workers 0 (up to float32 rounding); --model-module is refused", async () => {
    const [w0, w1] = [join(tmp, "w0"), join(tmp, "w1")];
    const [r0, r1] = await Promise.all([
      run(TRAIN, [...COMMON, "--steps", "6", "--workers", "0", "--out", w0]),
      run(TRAIN, [...COMMON, "--steps", "6", "--workers", "1", "--out", w1]),
    ]);
    expect(r0.code, r0.stderr).toBe(0);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toMatch(/data parallel: the main thread and 1 worker thread/);
    expect(r1.stderr).not.toMatch(/tensor count grew/);
    for (const file of ["model.safetensors", "ema.safetensors"]) {
      const a = safetensors(bytes(w0, file));
      const b = safetensors(bytes(w1, file));
      expect(a.size).toBeGreaterThan(0);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      let worst = 0;
      for (const [name, x] of a) {
        const y = b.get(name) as Float32Array;
        expect(y.length, name).toBe(x.length);
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
      }
      console.log(`[workers] ${file}: largest difference ${worst.toExponential(2)}`);
      expect(worst, file).toBeLessThan(1e-5);
    }
    const l0 = readFileSync(join(w0, "loss.csv"), "utf8").trim().split("\n").slice(1).map((l) => Number(l.split(",")[1]));
    const l1 = readFileSync(join(w1, "loss.csv"), "utf8").trim().split("\n").slice(1).map((l) => Number(l.split(",")[1]));
    expect(l1).toHaveLength(6);
    l1.forEach((v, i) => expect(Math.abs(v - (l0[i] as number))).toBeLessThan(1e-4 * Math.max(1, Math.abs(l0[i] as number))));
    // The run config records the workers; a resume may change them.
    expect((JSON.parse(readFileSync(join(w1, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { config: { workers: number } } }).extra.config.workers).toBe(1);
    const resumed = await run(TRAIN, [...COMMON, "--steps", "7", "--resume", "--workers", "0", "--out", w1]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(w1, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { config: { workers: number } } }).extra.config.workers).toBe(0);

    const refused = await run(TRAIN, ["--model-module", fixture("plain-net.mjs"), "--batch", "8", "--steps", "1", "--workers", "1", "--out", join(tmp, "wm")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--workers needs a --model preset/);
  });
});

describe("dale-train --micro-batch", () => {
  it("6 steps in slices of 3 (also across a worker thread) give the weights of whole batches; 0 is refused", async () => {
    const w0 = join(tmp, "w0"); // the --workers test's run: 6 steps, whole batches of 8 on the main thread
    expect(existsSync(join(w0, "checkpoint", "model.safetensors"))).toBe(true);
    const [m, mw] = [join(tmp, "m3"), join(tmp, "m3w")];
    const [r, rw] = await Promise.all([
      run(TRAIN, [...COMMON, "--steps", "6", "--micro-batch", "3", "--out", m]),
      run(TRAIN, [...COMMON, "--steps", "6", "--micro-batch", "3", "--workers", "1", "--out", mw]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(rw.code, rw.stderr).toBe(0);
    for (const dir of [m, mw]) {
      const a = safetensors(bytes(w0, "model.safetensors"));
      const b = safetensors(bytes(dir, "model.safetensors"));
      let worst = 0;
      for (const [name, x] of a) {
        const y = b.get(name) as Float32Array;
        expect(y.length, name).toBe(x.length);
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
      }
      console.log(`[micro-batch] ${dir}: largest weight difference ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-5);
    }
    expect((JSON.parse(readFileSync(join(m, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { config: { microBatch: number } } }).extra.config.microBatch).toBe(3);
    const refused = await run(TRAIN, [...COMMON, "--steps", "1", "--micro-batch", "0", "--out", join(tmp, "m0")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--micro-batch/);
  });
});

describe("helpers", () => {
  it("inverse clips to [0, 1] and keeps NaN visible (wasm would clip it to 0)", async () => {
    const { inverse } = await import("@dale/training");
    const tf = await import("@tensorflow/tfjs-core");
    const x = tf.tensor([Number.NaN, 0.5, 1.5, 2.5, 0.9]);
    expect(Array.from(inverse(x, { kind: "positive", shift: 1 }).dataSync())).toEqual([Number.NaN, 0, 0.5, 1, 0]);
    const y = tf.tensor([Number.NaN, -2, 0, 0.5, 3]);
    expect(Array.from(inverse(y, { kind: "symmetric" }).dataSync())).toEqual([Number.NaN, 0, 0.5, 0.75, 1]);
    tf.dispose([x, y]);
  });

  it("the batch order is a pure function of (seed, step): every index once per epoch", () => {
    const order = new BatchOrder(100, 8, 3);
    const again = new BatchOrder(100, 8, 3);
    expect(Array.from(order.indices(30))).toEqual(Array.from(again.indices(30)));
    const epoch0 = new Set<number>();
    for (let s = 1; s <= order.stepsPerEpoch; s++) for (const i of order.indices(s)) epoch0.add(i);
    expect(epoch0.size).toBe(order.stepsPerEpoch * 8);
    expect(Array.from(order.indices(1))).not.toEqual(Array.from(order.indices(1 + order.stepsPerEpoch)));
  });
});

describe("--train-images", () => {
  it("loads only the first n training images (MNIST from DALE_DATA_DIR, and the built-in subset)", async () => {
    const { loadTrainingData } = await import("@dale/training");
    const dir = process.env.DALE_DATA_DIR;
    if (!dir) throw new Error("set DALE_DATA_DIR to the datasets folder (../shared/datasets; .ci/run does this)");
    const all = await loadTrainingData("mnist", dir);
    const some = await loadTrainingData("mnist", dir, 300);
    expect(all.dataset.count).toBe(60000);
    expect(some.dataset.count).toBe(300);
    expect(some.note).toMatch(/first 300 images of the mnist training split/);
    expect(Buffer.from(some.dataset.images).equals(Buffer.from(all.dataset.images.subarray(0, 300 * 784)))).toBe(true);
    expect(Array.from(some.dataset.labels)).toEqual(Array.from(all.dataset.labels.subarray(0, 300)));
    const builtin = await loadTrainingData("builtin-mnist", undefined, 10);
    expect(builtin.dataset.count).toBe(10);
    expect(builtin.dataset.images.length).toBe(10 * 784);
    const kmnist = await loadTrainingData("kmnist", dir, 100);
    expect(kmnist.dataset.count).toBe(100);
    await expect(loadTrainingData("mnist", dir, 0)).rejects.toThrow(/limit must be a positive integer or null, got 0/);
  });

  it("is part of the run: recorded in the checkpoint, and a resume with another value is refused", async () => {
    const out = join(tmp, "train-images");
    const first = await run(TRAIN, ["--out", out, ...COMMON, "--steps", "2", "--train-images", "64", "--sample-count", "0"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/builtin-mnist: 64 images/);
    const m = JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { config: { trainImages: number | null } } };
    expect(m.extra.config.trainImages).toBe(64);
    const other = await run(TRAIN, ["--out", out, ...COMMON, "--steps", "3", "--train-images", "65", "--resume"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--train-images 65 differs from the checkpoint's 64/);
    const bad = await run(TRAIN, ["--out", join(tmp, "train-images-bad"), "--train-images", "0"]);
    expect(bad.stderr).toMatch(/--train-images/);
  });
});

describe("dale-train --lr-decay", () => {
  it("is stored in the checkpoint, may be set on resume, and a malformed value is refused before anything is read", async () => {
    const out = join(tmp, "lr-decay");
    const first = await run(TRAIN, ["--out", out, ...COMMON, "--steps", "2", "--sample-count", "0", "--lr-decay", "1:10:0.5"]);
    expect(first.code).toBe(0);
    const config = () => (JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { config: { lrDecay: unknown } } }).extra.config;
    expect(config().lrDecay).toEqual({ start: 1, end: 10, final: 0.5 });
    const resumed = await run(TRAIN, ["--out", out, ...COMMON, "--steps", "3", "--sample-count", "0", "--resume", "--lr-decay", "none"]);
    expect(resumed.code).toBe(0);
    expect(config().lrDecay).toBeNull();
    for (const value of ["5:3", "1:2:1.5", "a:4", "7"]) {
      const bad = await run(TRAIN, ["--out", join(tmp, "lr-decay-bad"), "--lr-decay", value]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`--lr-decay: expected start:end[:final] with whole steps start < end and final in [0, 1] (e.g. 6000:12000:0.05), or none; got "${value}".`);
    }
    expect(existsSync(join(tmp, "lr-decay-bad"))).toBe(false);
  });
});

describe("dale-train --ema-warmup", () => {
  it("is on for a fresh run, --no-ema-warmup turns it off, and a resume keeps the stored setting", async () => {
    const config = (out: string) => (JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { config: { emaWarmup: boolean } } }).extra.config;
    const on = join(tmp, "ema-on");
    expect((await run(TRAIN, ["--out", on, ...COMMON, "--steps", "1", "--sample-count", "0"])).code).toBe(0);
    expect(config(on).emaWarmup).toBe(true);
    const off = join(tmp, "ema-off");
    expect((await run(TRAIN, ["--out", off, ...COMMON, "--steps", "1", "--sample-count", "0", "--no-ema-warmup"])).code).toBe(0);
    expect(config(off).emaWarmup).toBe(false);
    // Resumed without the option: the stored plain EMA continues, it does not switch to the new default.
    expect((await run(TRAIN, ["--out", off, ...COMMON, "--steps", "2", "--sample-count", "0", "--resume"])).code).toBe(0);
    expect(config(off).emaWarmup).toBe(false);
    const changed = await run(TRAIN, ["--out", off, ...COMMON, "--steps", "3", "--sample-count", "0", "--resume", "--ema-warmup"]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/--ema-warmup true differs from the checkpoint's false/);
  });
});

describe("dale-train --recipe edm and dale-sample's solvers", () => {
  it("trains a preconditioned log-space denoiser, stores its constants, samples with Heun at NFE 35 by default", async () => {
    const out = join(tmp, "edm");
    const r = await run(TRAIN, ["--out", out, "--model", "tiny", "--batch", "8", "--steps", "3", "--recipe", "edm", "--sample-count", "2", "--log-every", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/EDM recipe: y_0 mean 0\.09\d+, sigma_data 0\.2\d+/);
    const m = JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as {
      config: { output: string; precondition: { sigmaData: number; mean: number } };
      extra: { config: { recipe: string; edm: { sigmaData: number; mean: number; pMean: number; pStd: number } }; sde: { sigma: { kind: string; sigmaMax: number } } };
    };
    expect(m.config.output).toBe("denoiser");
    expect(m.extra.config.recipe).toBe("edm");
    const edm = m.extra.config.edm;
    expect(m.config.precondition).toEqual({ sigmaData: edm.sigmaData, mean: edm.mean });
    expect(edm.pMean).toBeCloseTo(-1.2 + Math.log(edm.sigmaData / 0.5), 12);
    expect(m.extra.sde.sigma).toMatchObject({ kind: "geometric", sigmaMax: 10 });

    // dale-sample: the checkpoint's default solver, progress per network evaluation, one JSON line on stdout.
    const s = await runWithStdout(SAMPLE, ["--checkpoint", out, "--n", "3", "--batch", "2", "--json", "--out", join(out, "grid.png")]);
    expect(s.code, s.stderr).toBe(0);
    const summary = JSON.parse(s.stdout.trim().split("\n").at(-1) as string) as Record<string, unknown>;
    expect(summary).toMatchObject({ n: 3, sampler: "heun", steps: 18, nfe: 35, out: join(out, "grid.png") });
    expect(typeof summary.seconds).toBe("number");
    expect(s.stderr).toMatch(/\[sample\] 70\/70 network evaluations \(images 3-3 of 3/);
    const few = await runWithStdout(SAMPLE, ["--checkpoint", out, "--n", "2", "--sampler", "dpmpp-2m", "--nfe", "10", "--json", "--out", join(out, "few.png")]);
    expect(few.code, few.stderr).toBe(0);
    expect(JSON.parse(few.stdout.trim())).toMatchObject({ sampler: "dpmpp-2m", steps: 10, nfe: 10 });
    const both = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--steps", "5", "--nfe", "10"]);
    expect(both.stderr).toMatch(/give --steps or --nfe, not both/);
    // The stochastic solvers' settings reach the schedule; another sampler refuses them by name.
    const churn = await runWithStdout(SAMPLE, ["--checkpoint", out, "--n", "2", "--sampler", "edm-stochastic", "--steps", "3", "--s-churn", "5", "--s-noise", "1.003", "--json", "--out", join(out, "churn.png")]);
    expect(churn.code, churn.stderr).toBe(0);
    expect(JSON.parse(churn.stdout.trim())).toMatchObject({ sampler: "edm-stochastic", nfe: 5, schedule: { steps: 3, sChurn: 5, sNoise: 1.003 } });
    const wrong = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--sampler", "heun", "--s-churn", "5"]);
    expect(wrong.stderr).toMatch(/--s-churn, --s-tmin, --s-tmax and --s-noise apply to edm-stochastic, not heun/);
    const eta = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--sampler", "dpmpp-2m", "--eta", "0.5"]);
    expect(eta.stderr).toMatch(/--eta applies to dpmpp-2m-sde, not dpmpp-2m/);

    // dale-export --sampler records a recommended sampler, which dale-sample then uses when none is named.
    const rec = join(tmp, "edm-recommended");
    const e = await run(EXPORT, ["--checkpoint", out, "--out", rec, "--sampler", "edm-stochastic", "--nfe", "5", "--s-churn", "5"]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/recommended sampler edm-stochastic \{"steps":3,"sChurn":5\} \(NFE 5\)/);
    const stored = JSON.parse(readFileSync(join(rec, "checkpoint.json"), "utf8")) as { extra: { sampling: unknown } };
    expect(stored.extra.sampling).toEqual({ sampler: "edm-stochastic", schedule: { steps: 3, sChurn: 5 } });
    const byDefault = await runWithStdout(SAMPLE, ["--checkpoint", rec, "--n", "2", "--json", "--out", join(rec, "a.png")]);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(JSON.parse(byDefault.stdout.trim())).toMatchObject({ sampler: "edm-stochastic", steps: 3, nfe: 5, schedule: { steps: 3, sChurn: 5 } });
    // Flags change the recommendation's fields; another sampler starts from its own defaults.
    const more = await runWithStdout(SAMPLE, ["--checkpoint", rec, "--n", "2", "--nfe", "9", "--s-noise", "1.01", "--json", "--out", join(rec, "b.png")]);
    expect(JSON.parse(more.stdout.trim())).toMatchObject({ sampler: "edm-stochastic", schedule: { steps: 5, sChurn: 5, sNoise: 1.01 } });
    const heun = await runWithStdout(SAMPLE, ["--checkpoint", rec, "--n", "2", "--sampler", "heun", "--json", "--out", join(rec, "c.png")]);
    expect(JSON.parse(heun.stdout.trim())).toMatchObject({ sampler: "heun", schedule: { steps: 18 } });
    const loose = await run(EXPORT, ["--checkpoint", out, "--out", join(tmp, "edm-loose"), "--s-churn", "5"]);
    expect(loose.stderr).toMatch(/--steps, --nfe, --guide and the solver settings describe the recommended sampler; add --sampler/);
    const family = await run(EXPORT, ["--checkpoint", out, "--out", join(tmp, "edm-family"), "--sampler", "euler-maruyama", "--steps", "10"]);
    expect(family.stderr).toMatch(/the euler-maruyama sampler is for additive \(VP\/VE\) diffusion/);
    const count = await run(EXPORT, ["--checkpoint", out, "--out", join(tmp, "edm-count"), "--sampler", "heun"]);
    expect(count.stderr).toMatch(/--sampler needs --steps or --nfe/);

    // Autoguidance travels with the export (<out>/guide). A guide with the model's own weights changes no pixel, and
    // each evaluation counts twice.
    const g = join(tmp, "edm-guided");
    const ge = await run(EXPORT, ["--checkpoint", out, "--out", g, "--sampler", "heun", "--steps", "3", "--guide", out, "--guidance", "2"]);
    expect(ge.code, ge.stderr).toBe(0);
    expect(ge.stderr).toMatch(/recommended sampler heun \{"steps":3\} \(NFE 10, autoguided by guide\/ with w 2\)/);
    expect((JSON.parse(readFileSync(join(g, "checkpoint.json"), "utf8")) as { extra: { sampling: unknown } }).extra.sampling).toEqual({ sampler: "heun", schedule: { steps: 3 }, guidance: { checkpoint: "guide", weight: 2 } });
    const guided = await runWithStdout(SAMPLE, ["--checkpoint", g, "--n", "2", "--json", "--out", join(g, "g.png"), "--out-npy", join(g, "g.npy")]);
    expect(guided.code, guided.stderr).toBe(0);
    expect(JSON.parse(guided.stdout.trim())).toMatchObject({ sampler: "heun", steps: 3, nfe: 10, guidance: { checkpoint: join(g, "guide"), weight: 2 } });
    const unguided = await runWithStdout(SAMPLE, ["--checkpoint", g, "--n", "2", "--no-guide", "--json", "--out", join(g, "u.png"), "--out-npy", join(g, "u.npy")]);
    expect(JSON.parse(unguided.stdout.trim())).toMatchObject({ nfe: 5 });
    expect(JSON.parse(unguided.stdout.trim()).guidance).toBeUndefined();
    expect(readFileSync(join(g, "g.npy")).equals(readFileSync(join(g, "u.npy")))).toBe(true);
    const refLangevin = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--sampler", "dale-langevin", "--guide", g]);
    expect(refLangevin.stderr).toMatch(/autoguidance \(--guide\) combines denoisers, which only the solvers .* take, not dale-langevin/);
    const weightOnly = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--guidance", "2"]);
    expect(weightOnly.stderr).toMatch(/--guidance sets the weight of autoguidance; give --guide/);

    const other = await run(TRAIN, ["--out", out, "--model", "tiny", "--batch", "8", "--steps", "4", "--recipe", "reference", "--resume"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--recipe "reference" differs from the checkpoint's "edm"/);
  });
});

/** Like `run`, keeping stdout too. */
function runWithStdout(bin: string, args: string[]): Promise<Result & { stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, DALE_BACKEND: "wasm" }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code, signal, stderr, stdout, pid: child.pid as number }));
  });
}

describe("command-line frictions", () => {
  it("dale-sample refuses a grid name that is not .png before sampling, scales and captions grids; a resume to a smaller --steps reports no negative speed", async () => {
    const out = join(tmp, "frictions");
    const first = await run(TRAIN, ["--dataset", "builtin-mnist", "--train-images", "64", "--model", "tiny", "--steps", "3", "--batch", "8", "--sample-count", "0", "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    const jpg = await run(SAMPLE, ["--checkpoint", out, "--n", "2", "--steps", "2", "--out", join(tmp, "grid.jpg")]);
    expect(jpg.code).toBe(1);
    expect(jpg.stderr).toMatch(/--out .*grid\.jpg: the grid is written as PNG; give a file name ending in \.png/);
    expect(jpg.stderr).not.toMatch(/\[sample\] \d+\/\d+ network evaluations/);
    // --scale draws each pixel as a k x k block; --caption adds a line of text under the grid.
    const scaled = join(tmp, "scaled.png");
    const big = await run(SAMPLE, ["--checkpoint", out, "--n", "4", "--steps", "2", "--scale", "2", "--out", scaled]);
    expect(big.code, big.stderr).toBe(0);
    const image = PNG.sync.read(readFileSync(scaled));
    expect([image.width, image.height]).toEqual([2 * (56 + 2) + 2, 2 * (56 + 2) + 2]);
    const captioned = join(tmp, "captioned.png");
    const cap = await run(SAMPLE, ["--checkpoint", out, "--n", "4", "--steps", "2", "--scale", "2", "--caption", "auto", "--out", captioned]);
    expect(cap.code, cap.stderr).toBe(0);
    const withText = PNG.sync.read(readFileSync(captioned));
    expect(withText.width).toBe(image.width);
    expect(withText.height).toBeGreaterThan(image.height + 10);
    const back = await run(TRAIN, ["--out", out, "--resume", "--steps", "2", "--sample-count", "0"]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toMatch(/already at step 3 >= steps 2; nothing to train/);
    expect(back.stderr).toMatch(/\[train\] done: step 3 in [\d.]+ s\. Checkpoint/);
    expect(back.stderr).not.toMatch(/-[\d.]+ steps\/s/);
  });

  it("a --model-module outside the installation builds its network with the trainer's tfjs, passed to createModel", async () => {
    const outside = mkdtempSync(join(tmpdir(), "dale-user-module-"));
    try {
      // No imports: a module here cannot resolve @tensorflow/tfjs-core or @dale/models.
      const module = join(outside, "net.mjs");
      writeFileSync(
        module,
        `export function createModel(config, { tf, fromFunction }) {\n` +
          `  const w = tf.variable(tf.zeros([3, 3, config.channels, config.channels]), true, "outside/w");\n` +
          `  return fromFunction((x, t) => tf.conv2d(tf.log(x), w, 1, "same"), { output: "noise", variables: { w }, name: "outside" });\n` +
          `}\n`,
      );
      const r = await run(TRAIN, ["--dataset", "builtin-mnist", "--train-images", "64", "--model-module", module, "--steps", "2", "--batch", "8", "--sample-count", "0", "--out", join(outside, "run")]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/\[train\] done: step 2/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
