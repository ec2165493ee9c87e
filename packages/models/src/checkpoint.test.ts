import "@dale/backend"; // registers tfjs gradients (the optimizer test trains)
import { adam } from "@dale/backend";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import type { CheckpointManifest } from "./checkpoint";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint-folder";
import { Ema, emaDecayAt } from "./ema";
import { decodeSafetensors, encodeSafetensors } from "@dale/io";
import { fromFunction } from "./score-model";
import { createUNet, unetPresets, type UNet } from "./unet";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dale-ckpt-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/**
 * What numpy read from the model.safetensors of `savedTiny()` (per-tensor float64 sums, the metadata, the file's
 * SHA-256), written by tooling/fixtures/safetensors_numpy.py (numpy 1.24); tooling/fixtures/check.sh regenerates it
 * where numpy exists. The test needs no Python.
 */
const numpyReading = () =>
  JSON.parse(readFileSync(new URL("./__fixtures__/checkpoint-numpy.json", import.meta.url), "utf8")) as {
    files: Record<string, { sha256: string; metadata: Record<string, string> | null; tensors: Record<string, { dtype: string; shape: number[]; sum: number }> }>;
  };

/** With DALE_FIXTURE_INPUTS=<dir> (tooling/fixtures/check.sh), writes the bytes handed to Python into <dir>. */
function writeFixtureInput(name: string, bytes: Uint8Array): void {
  const dir = process.env.DALE_FIXTURE_INPUTS;
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
}

function weightsOf(model: UNet): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(model.namedVariables()).map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

async function savedTiny(options: { dtype?: "F32" | "F16" } = {}) {
  const dir = await tempDir();
  const model = createUNet(unetPresets.tiny, { seed: 4, zeroInit: false });
  const ema = new Ema(model.namedVariables(), 0.99);
  tf.tidy(() => model.variables.forEach((v) => v.assign(tf.mul(v, 1.5))));
  ema.update();
  const manifest = await saveCheckpoint(dir, { model, ema, step: 12, extra: { note: "hi" } }, options);
  return { dir, model, ema, manifest };
}

describe("checkpoints", () => {
  it("save then load gives back the weights, the EMA, the step and extra (F32 exact)", async () => {
    const { dir, model, ema, manifest } = await savedTiny();
    expect((await readdir(dir)).sort()).toEqual(["checkpoint.json", "ema.safetensors", "model.safetensors"]); // no temp files left
    expect(manifest.files.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.step).toBe(12);
    expect(loaded.extra).toEqual({ note: "hi" });
    expect(loaded.model.config).toEqual(model.config);
    const want = weightsOf(model);
    const got = weightsOf(loaded.model);
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) expect(Array.from(got[k] ?? [])).toEqual(Array.from(want[k] ?? []));
    const emaWant = ema.namedTensors();
    const emaGot = loaded.ema?.namedTensors() ?? {};
    for (const k of Object.keys(emaWant)) expect(Array.from(emaGot[k]?.dataSync() ?? [])).toEqual(Array.from(emaWant[k]?.dataSync() ?? []));
    expect(loaded.ema?.decay).toBe(0.99);
    // The loaded model computes what the saved one does.
    const x = tf.ones([1, 28, 28, 1]);
    const t = tf.tensor1d([0.5]);
    const [a, b] = [model.apply(x, t), loaded.model.apply(x, t)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, t, a, b]);
    for (const e of [ema, loaded.ema]) e?.dispose();
    model.dispose();
    loaded.model.dispose();
  });

  it("F16 checkpoints load within 1e-3 relative", async () => {
    const { dir, model, ema } = await savedTiny({ dtype: "F16" });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.manifest.dtype).toBe("F16");
    const want = weightsOf(model);
    const got = weightsOf(loaded.model);
    for (const k of Object.keys(want)) {
      const w = want[k] as Float32Array;
      const g = got[k] as Float32Array;
      w.forEach((v, i) => expect(Math.abs((g[i] as number) - v)).toBeLessThanOrEqual(1e-3 * Math.abs(v) + 1e-7));
    }
    ema.dispose();
    loaded.ema?.dispose();
    model.dispose();
    loaded.model.dispose();
  });

  it("detects a corrupt byte, truncation, a missing file, a missing checkpoint.json and a shape mismatch", async () => {
    const { dir, model, ema } = await savedTiny();
    const path = join(dir, "model.safetensors");
    const original = await readFile(path);

    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 100] = (corrupt[corrupt.length - 100] as number) ^ 0xff;
    await writeFile(path, corrupt);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors is corrupt: sha256 mismatch, expected [0-9a-f]{64}/);

    await writeFile(path, original);
    await truncate(path, original.length - 10);
    await expect(loadCheckpoint(dir)).rejects.toThrow(new RegExp(`model\\.safetensors is truncated: expected ${original.length} bytes, found ${original.length - 10}`));
    await writeFile(path, original);

    const emaPath = join(dir, "ema.safetensors");
    const emaBytes = await readFile(emaPath);
    await rm(emaPath);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/ema\.safetensors is missing, but checkpoint\.json lists it/);
    await writeFile(emaPath, emaBytes);

    // A file whose hash matches the manifest but whose shapes do not match the model.
    const manifestPath = join(dir, "checkpoint.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as CheckpointManifest;
    const file = decodeSafetensors(original);
    const bias = file.tensors.get("conv_in.b");
    if (bias) bias.shape = [2, 4];
    const reshaped = encodeSafetensors([...file.tensors.entries()]);
    await writeFile(path, reshaped);
    manifest.files.model = { path: "model.safetensors", bytes: reshaped.length, sha256: createHash("sha256").update(reshaped).digest("hex") };
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: tensor "conv_in\.b" has shape \[2,4\], expected \[8\]/);

    await rm(manifestPath);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/no complete checkpoint in .*checkpoint\.json is missing/);
    ema.dispose();
    model.dispose();
  });

  it("writes model.safetensors that numpy reads with the same sums (committed numpy reading)", async () => {
    const { dir, model, ema } = await savedTiny();
    const bytes = new Uint8Array(await readFile(join(dir, "model.safetensors")));
    writeFixtureInput("models-model.safetensors", bytes);
    const reading = numpyReading().files["models-model.safetensors"];
    if (reading === undefined) throw new Error("__fixtures__/checkpoint-numpy.json has no models-model.safetensors; regenerate it with tooling/fixtures/check.sh --write.");
    // numpy read exactly these bytes: a change to the U-Net's initialisation, savedTiny or the writer needs a new reading.
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    expect(sha256, "model.safetensors is no longer the file numpy read; regenerate the fixture with tooling/fixtures/check.sh --write").toBe(reading.sha256);
    expect(reading.metadata?.kind).toBe("model");
    const weights = weightsOf(model);
    expect(Object.keys(reading.tensors).sort()).toEqual(Object.keys(weights).sort());
    for (const [k, v] of Object.entries(weights)) expect(reading.tensors[k]?.sum).toBeCloseTo(v.reduce((a, b) => a + b, 0), 4);
    ema.dispose();
    model.dispose();
  });

  it("resumes Dale's adam exactly: two steps after a reload equal two uninterrupted steps", async () => {
    const dir = await tempDir();
    const model = createUNet(unetPresets.tiny, { seed: 5, zeroInit: false });
    const x = tf.add(tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 3), 1);
    const t = tf.tensor1d([0.3, 0.8]);
    const target = tf.randomNormal([2, 28, 28, 1], 0, 1, "float32", 4);
    const step = (m: UNet, opt: tf.Optimizer) =>
      opt.minimize(() => tf.mean(tf.square(tf.sub(m.apply(x, t), target))) as tf.Scalar, false, m.variables);
    const opt = adam(1e-2);
    step(model, opt);
    step(model, opt);
    await saveCheckpoint(dir, { model, optimizer: opt, step: 2 });
    const saved = decodeSafetensors(await readFile(join(dir, "optimizer.safetensors")));
    expect(saved.tensors.has("conv_in.w/m")).toBe(true); // stored under the model's names, not tfjs' variable names
    step(model, opt);
    step(model, opt);

    const opt2 = adam(1e-2);
    const before = tf.memory().numTensors;
    const resumed = await loadCheckpoint(dir, { optimizer: opt2 });
    expect(resumed.optimizerWeights).toBeUndefined();
    // Only what is kept was made: the variables, Adam's m and v per variable, acc1, acc2 and its 7 constants.
    expect(tf.memory().numTensors - before).toBe(3 * resumed.model.variables.length + 2 + 7);
    step(resumed.model, opt2);
    step(resumed.model, opt2);
    const want = weightsOf(model);
    const got = weightsOf(resumed.model);
    let maxDiff = 0;
    for (const k of Object.keys(want)) {
      (want[k] as Float32Array).forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ((got[k] as Float32Array)[i] as number)))));
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // Control: the same reload with a fresh optimizer (no saved moments) ends elsewhere.
    const fresh = await loadCheckpoint(dir);
    expect(fresh.optimizerWeights?.[0]?.name).toBe("iter");
    tf.dispose(fresh.optimizerWeights?.map((w) => w.tensor) ?? []);
    const opt3 = adam(1e-2);
    step(fresh.model, opt3);
    step(fresh.model, opt3);
    const other = weightsOf(fresh.model);
    let controlDiff = 0;
    for (const k of Object.keys(want)) {
      (want[k] as Float32Array).forEach((v, i) => (controlDiff = Math.max(controlDiff, Math.abs(v - ((other[k] as Float32Array)[i] as number)))));
    }
    expect(controlDiff).toBeGreaterThan(1e-4);
    tf.dispose([x, t, target]);
    for (const o of [opt, opt2, opt3]) o.dispose();
    for (const m of [model, resumed.model, fresh.model]) m.dispose();
  });
});

describe("Ema", () => {
  it("averages ema = decay * ema + (1 - decay) * w, swaps weights in apply, and leaks nothing", () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, "ema-test-w");
    const ema = new Ema({ w }, 0.9);
    w.assign(tf.tensor1d([3, 4]));
    const before = tf.memory().numTensors;
    ema.update();
    expect(Array.from(ema.namedTensors().w?.dataSync() ?? [])).toEqual([expect.closeTo(1.2, 6), expect.closeTo(2.2, 6)]);
    ema.update();
    expect(Array.from(ema.namedTensors().w?.dataSync() ?? [])).toEqual([expect.closeTo(1.38, 6), expect.closeTo(2.38, 6)]);
    expect(tf.memory().numTensors).toBe(before);
    const inside = ema.apply(() => Array.from(w.dataSync()));
    expect(inside).toEqual([expect.closeTo(1.38, 6), expect.closeTo(2.38, 6)]);
    expect(Array.from(w.dataSync())).toEqual([3, 4]);
    expect(() => ema.apply(() => { throw new Error("boom"); })).toThrow("boom");
    expect(Array.from(w.dataSync())).toEqual([3, 4]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new Ema([w], 1)).toThrow(/decay must be in \[0, 1\)/);
    ema.dispose();
    w.dispose();
  });

  it("warms up as min(decay, (1 + t) / (10 + t)): the start's weight after t updates is 9! t! / (9 + t)!, exactly", () => {
    expect([0, 1, 2, 8990, 9000].map((t) => emaDecayAt(0.999, true, t))).toEqual([0.1, 2 / 11, 3 / 12, 8991 / 9000, 0.999]);
    expect(emaDecayAt(0.999, false, 0)).toBe(0.999);
    expect(() => emaDecayAt(0.999, true, -1)).toThrow(/emaDecayAt: updates must be an integer >= 0, got -1/);
    expect(() => emaDecayAt(1, true, 3)).toThrow(/emaDecayAt: decay must be in \[0, 1\)/);
    // A weight that drops from 1 to 0 before the first update: the EMA is then the start's weight, the product of the
    // decays, prod_{k<t} (1 + k) / (10 + k) = 1 / C(9 + t, 9) with warm-up, and 0.999^t without.
    const w = tf.variable(tf.scalar(1), true, "ema-warmup-w");
    const warm = new Ema({ w }, 0.999);
    const plain = new Ema({ w }, 0.999);
    w.assign(tf.scalar(0));
    const before = tf.memory().numTensors;
    const binom = (n: number, k: number) => Array.from({ length: k }, (_, i) => (n - i) / (k - i)).reduce((a, b) => a * b, 1);
    for (let t = 0; t < 30; t++) {
      warm.update(emaDecayAt(0.999, true, t));
      plain.update();
    }
    expect(tf.memory().numTensors).toBe(before);
    const rel = (got: number, want: number) => Math.abs(got - want) / want;
    expect(rel(warm.namedTensors().w?.dataSync()[0] as number, 1 / binom(39, 9))).toBeLessThan(1e-5);
    expect(rel(plain.namedTensors().w?.dataSync()[0] as number, 0.999 ** 30)).toBeLessThan(1e-5);
    // The point of it: at the cpu-edm budget (2,000 updates at 0.999) the plain EMA keeps 13.5% of the start.
    expect(0.999 ** 2000).toBeCloseTo(0.135, 3);
    expect(1 / binom(2009, 9)).toBeLessThan(1e-20);
    expect(() => warm.update(1)).toThrow(/Ema\.update: decay must be in \[0, 1\), got 1/);
    warm.dispose();
    plain.dispose();
    w.dispose();
  });
});

describe("checkpoint configs", () => {
  it("checkpoints a fromFunction model when it is passed back in", async () => {
    const dir = await tempDir();
    const w = tf.variable(tf.tensor1d([0.5, -1]), true, "ckpt-fn-w");
    const model = fromFunction((x) => tf.mul(x, w), { output: "stein", variables: { w }, name: "linear" });
    await saveCheckpoint(dir, { model, step: 1 });
    await expect(loadCheckpoint(dir)).rejects.toThrow(/"function" model, which cannot be rebuilt from its config; pass it as options.model/);
    w.assign(tf.tensor1d([0, 0]));
    await loadCheckpoint(dir, { model });
    expect(Array.from(w.dataSync())).toEqual([0.5, -1]);
    w.dispose();
  });

  it("loads a checkpoint written before the U-Net had an input field into a model built today, and still rejects a real difference", async () => {
    const { dir, model } = await savedTiny();
    // Rewrite the manifest as a checkpoint from before `input` existed wrote it.
    const path = join(dir, "checkpoint.json");
    const manifest = JSON.parse(await readFile(path, "utf8")) as CheckpointManifest;
    const { input, ...older } = manifest.config as Record<string, unknown>;
    expect(input).toBe("x");
    await writeFile(path, JSON.stringify({ ...manifest, config: older }));
    const fresh = createUNet(unetPresets.tiny, { seed: 9 });
    const loaded = await loadCheckpoint(dir, { model: fresh });
    expect(loaded.model).toBe(fresh);
    const want = weightsOf(model);
    const got = weightsOf(fresh);
    for (const k of Object.keys(want)) expect(Array.from(got[k] ?? [])).toEqual(Array.from(want[k] ?? []));
    const logInput = createUNet({ ...unetPresets.tiny, input: "log" }, { seed: 9 });
    await expect(loadCheckpoint(dir, { model: logInput })).rejects.toThrow(/given model's config .*"input":"log".* differs from the stored/);
    for (const m of [fresh, logInput, model]) m.dispose();
  });
});
