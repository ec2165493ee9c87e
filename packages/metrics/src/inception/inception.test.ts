/**
 * The FID Inception-v3 against PyTorch. The official weights cannot be fetched in tests, so
 * tooling/inception-reference/make_reference.py builds pytorch-fid's network in torch with seeded random weights,
 * saves its state dict (zip and legacy .pth, ~95 MB each, gitignored cache) and records pool3 features and logits
 * in float64 for formula-generated images. This test generates that cache when it is missing or stale (it needs
 * Python 3 with torch and numpy; without them it fails and says how to install them) and compares.
 *
 * Error measure, per image: max_k |ours_k - torch_k| / max_k |torch_k| over the 2048 features (and the 1008 logits).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTorchStateDict, torchTensorToFloat32 } from "../torch";
import { inceptionFeatureExtractor, type InceptionFeatureExtractor } from "./extractor";

const toolDir = fileURLToPath(new URL("../../../../tooling/inception-reference/", import.meta.url));
const script = `${toolDir}make_reference.py`;
const cacheDir = `${toolDir}.cache`;
const zipPath = `${cacheDir}/random_inception.pth`;
const legacyPath = `${cacheDir}/random_inception_legacy.pth`;
const referencePath = `${cacheDir}/reference.json`;

interface Batch {
  name: string;
  shape: [number, number, number, number];
  input: number[];
  features64: number[][];
  logits64: number[][];
  features32: number[][];
  logits32: number[][];
}

/** Relative error of one row: max |a - b| / max |b|. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let k = 0; k < b.length; k++) {
    err = Math.max(err, Math.abs((a[k] as number) - (b[k] as number)));
    scale = Math.max(scale, Math.abs(b[k] as number));
  }
  return err / scale;
}

/** Builds the reference cache unless it is there and was made by the current script. */
function ensureReference(): { batches: Batch[] } {
  const scriptHash = createHash("sha256").update(readFileSync(script)).digest("hex");
  const fresh = (): boolean => {
    if (![zipPath, legacyPath, referencePath].every((p) => existsSync(p))) return false;
    return (JSON.parse(readFileSync(referencePath, "utf8")) as { script_sha256: string }).script_sha256 === scriptHash;
  };
  if (!fresh()) {
    const python = process.env.DALE_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
    const install =
      "The FID Inception test builds its PyTorch reference with Python 3, torch and numpy. Install them " +
      "(Debian/Ubuntu: `apt-get install python3-torch python3-numpy`; elsewhere: `pip install torch numpy`, CPU wheels are enough), " +
      `or set DALE_PYTHON to an interpreter that has them, then rerun. By hand: ${python} tooling/inception-reference/make_reference.py --out tooling/inception-reference/.cache`;
    const probe = spawnSync(python, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8" });
    if (probe.error !== undefined || probe.status !== 0) {
      const why = probe.error !== undefined ? probe.error.message : probe.stderr.trim().split("\n").pop();
      throw new Error(`${python} cannot import torch and numpy (${why}).\n${install}`);
    }
    const run = spawnSync(python, [script, "--out", cacheDir], { encoding: "utf8", timeout: 20 * 60_000 });
    if (run.error !== undefined || run.status !== 0) {
      throw new Error(`make_reference.py failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr.slice(-3000)}\n${install}`);
    }
    if (!fresh()) throw new Error(`make_reference.py ran but ${referencePath} is missing or stale.`);
  }
  return JSON.parse(readFileSync(referencePath, "utf8")) as { batches: Batch[] };
}

describe("FID Inception-v3 against PyTorch (random weights, reference in float64)", () => {
  let reference: { batches: Batch[] };
  let inception: InceptionFeatureExtractor;
  let tensorsBefore: number;

  beforeAll(async () => {
    reference = ensureReference();
    tensorsBefore = tf.memory().numTensors;
    // The legacy (pre-1.6) container, like the 2019 official file most likely is.
    inception = await inceptionFeatureExtractor({ weights: legacyPath, batchSize: 1 });
  }, 30 * 60_000);

  afterAll(() => {
    inception?.dispose();
  });

  it("pool3 features and logits match torch within 1e-4 relative (measured ~2e-5)", () => {
    const report: string[] = [];
    for (const batch of reference.batches) {
      const x = tf.tensor4d(batch.input, batch.shape);
      const { features, logits } = inception.network.classify(x);
      expect(features.shape).toEqual([batch.shape[0], 2048]);
      expect(logits.shape).toEqual([batch.shape[0], 1008]);
      const f = features.arraySync();
      const l = logits.arraySync();
      tf.dispose([x, features, logits]);
      for (let i = 0; i < batch.shape[0]; i++) {
        const fErr = relError(f[i]!, batch.features64[i]!);
        const lErr = relError(l[i]!, batch.logits64[i]!);
        const torch32 = relError(batch.features32[i]!, batch.features64[i]!);
        // Elementwise as well: |a - b| <= 1e-4 * (|b| + mean |b|).
        const meanAbs = batch.features64[i]!.reduce((s, v) => s + Math.abs(v), 0) / 2048;
        const worst = Math.max(...f[i]!.map((v, k) => Math.abs(v - batch.features64[i]![k]!) / (Math.abs(batch.features64[i]![k]!) + meanAbs)));
        report.push(
          `${batch.name}[${i}] ${batch.shape.slice(1).join("x")}: features ${fErr.toExponential(2)}, logits ${lErr.toExponential(2)}, elementwise ${worst.toExponential(2)} (torch float32: ${torch32.toExponential(2)})`,
        );
        expect(fErr, batch.name).toBeLessThan(1e-4);
        expect(lErr, batch.name).toBeLessThan(1e-4);
        expect(worst, batch.name).toBeLessThan(1e-4);
      }
    }
    console.log(`tfjs (${tf.getBackend()}) vs torch float64, max|a-b|/max|b| per image:\n  ${report.join("\n  ")}`);
  });

  it("extractor.logits are softmax(features W^T) without the fc bias, batched one image at a time", () => {
    const batch = reference.batches.find((b) => b.name === "gray28")!;
    const sd = readTorchStateDict(readFileSync(zipPath), { source: zipPath });
    const bias = torchTensorToFloat32(sd.tensors.get("fc.bias")!);
    const x = tf.tensor4d(batch.input, batch.shape);
    const p = inception.logits(x);
    const got = p.arraySync();
    // Features and probabilities from one pass: the values of the two separate calls.
    const f = inception.features(x);
    const both = inception.featuresAndLogits(x);
    expect(Array.from(both.features.dataSync())).toEqual(Array.from(f.dataSync()));
    expect(Array.from(both.logits.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([x, p, f, both.features, both.logits]);
    for (let i = 0; i < batch.shape[0]; i++) {
      const unbiased = batch.logits64[i]!.map((v, k) => v - bias[k]!);
      const top = Math.max(...unbiased);
      const e = unbiased.map((v) => Math.exp(v - top));
      const sum = e.reduce((a, b) => a + b, 0);
      const want = e.map((v) => v / sum);
      expect(got[i]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(relError(got[i]!, want)).toBeLessThan(1e-3); // probabilities: exp amplifies the logit error
    }
    // The zip file holds exactly the tensors of the legacy file the extractor read.
    const legacy = readTorchStateDict(readFileSync(legacyPath), { source: legacyPath });
    expect(sd.format).toBe("zip");
    expect(legacy.format).toBe("legacy");
    expect([...sd.tensors.keys()]).toEqual([...legacy.tensors.keys()]);
    for (const [key, t] of sd.tensors) {
      const other = legacy.tensors.get(key)!;
      expect(other.shape, key).toEqual(t.shape);
      expect(Buffer.from(other.data.buffer, other.data.byteOffset, other.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), key).toBe(true);
    }
  });

  it("names the weights by hash (these are not the official ones) and frees every tensor on dispose", () => {
    expect(inception.weights.official).toBe(false);
    expect(inception.name).toMatch(/^inception-v3-fid\(sha256:[0-9a-f]{16}\)$/);
    expect(inception.dim).toBe(2048);
    inception.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
