/**
 * The FID Inception-v3 against PyTorch. The official weights cannot be fetched in tests, so
 * tooling/inception-reference/make_reference.py builds pytorch-fid's network in torch with seeded random weights and
 * records, in the committed __fixtures__/inception-reference.json, how to rebuild those weights without torch and the
 * pool3 features and logits torch computes in float64 for formula-generated images. This test rebuilds the weights
 * (checking their SHA-256 against the fixture), writes them as a zip and a legacy .pth, loads the legacy one through
 * inceptionFeatureExtractor and compares. It needs neither Python nor a download; tooling/fixtures/check.sh
 * regenerates the fixture where torch exists.
 *
 * Error measure, per image: max_k |ours_k - torch_k| / max_k |torch_k| over the 2048 features (and the 1008 logits).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTorchStateDict, torchTensorToFloat32 } from "../torch";
import { float64Rows, loadInceptionReference, paramsSha256, rebuildStateDict, referenceImages, torchFiles, type InceptionReference } from "./__fixtures__/reference";
import { inceptionFeatureExtractor, type InceptionFeatureExtractor } from "./extractor";

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

interface Batch {
  name: string;
  shape: [number, number, number, number];
  input: Float32Array;
  features64: number[][];
  logits64: number[][];
  /** torch's own float32 error per image (features), for the report. */
  torch32: number[];
}

describe("FID Inception-v3 against PyTorch (random weights, reference in float64)", () => {
  let fixture: InceptionReference;
  let reference: { batches: Batch[] };
  let inception: InceptionFeatureExtractor;
  let tensorsBefore: number;
  const dir = mkdtempSync(join(tmpdir(), "dale-inception-"));
  const zipPath = join(dir, "random_inception.pth");
  const legacyPath = join(dir, "random_inception_legacy.pth");

  beforeAll(async () => {
    fixture = loadInceptionReference();
    const tensors = rebuildStateDict(fixture);
    // The weights torch used, bit for bit, or nothing below means anything.
    const sha = paramsSha256(tensors);
    if (sha !== fixture.paramsSha256) throw new Error(`the weights rebuilt from __fixtures__/inception-reference.json hash to ${sha}, not to the ${fixture.paramsSha256} torch used.`);
    const { zip, legacy } = torchFiles(tensors);
    writeFileSync(zipPath, zip);
    writeFileSync(legacyPath, legacy);
    reference = {
      batches: fixture.batches.map((b) => ({
        name: b.name,
        shape: b.shape,
        input: referenceImages(b),
        features64: float64Rows(b.features64),
        logits64: float64Rows(b.logits64),
        torch32: b.torch32.features,
      })),
    };
    tensorsBefore = tf.memory().numTensors;
    // The legacy (pre-1.6) container, like the 2019 official file most likely is.
    inception = await inceptionFeatureExtractor({ weights: legacyPath, batchSize: 1 });
  }, 10 * 60_000);

  afterAll(() => {
    inception?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rebuilds the images torch saw", () => {
    for (const [i, batch] of reference.batches.entries()) {
      const sha = createHash("sha256").update(new Uint8Array(batch.input.buffer)).digest("hex");
      expect(sha, batch.name).toBe(fixture.batches[i]!.inputSha256);
      expect(batch.input.length).toBe(batch.shape.reduce((a, b) => a * b, 1));
    }
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
        const torch32 = batch.torch32[i]!;
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
