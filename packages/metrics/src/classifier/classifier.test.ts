import * as tf from "@tensorflow/tfjs-core";
import { loadBuiltinMnist } from "@dale/data/node";
import { encodeSafetensors } from "@dale/io";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  classifierFeatureExtractor,
  classifierFromBytes,
  loadClassifier,
  loadOrTrainClassifier,
  saveClassifier,
  splitFixed,
  takeImages,
  trainClassifier,
  type Classifier,
  type LabelledImages,
  type TrainClassifierOptions,
} from "./index";

const mnist = loadBuiltinMnist(); // 4000 digits, 400 per class
const tiny = takeImages(mnist, Array.from({ length: 64 }, (_, i) => i * 61)); // spread over the classes
const tinyOptions = (): TrainClassifierOptions => ({ train: tiny, dataset: "tiny", widths: [4, 8], featureDim: 16, steps: 6, batchSize: 16, classes: 10 });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dale-classifier-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trainClassifier on the built-in MNIST subset", () => {
  let classifier: Classifier;
  let test: LabelledImages;
  let tensorsBefore: number;
  beforeAll(async () => {
    tensorsBefore = tf.memory().numTensors;
    const split = splitFixed(mnist.count, 3000);
    test = takeImages(mnist, split.test);
    // One epoch of 93 steps of 32: 26 s on the shared 2-core machine. Measured: 93.0% on the 1000 held-out digits.
    classifier = await trainClassifier({ train: takeImages(mnist, split.train), test, dataset: "mnist-builtin", epochs: 1, batchSize: 32, seed: 0 });
  });
  afterAll(() => {
    classifier.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it("classifies held-out digits far above chance, and stores the accuracy with the weights", () => {
    expect(classifier.info.testAccuracy).toBeGreaterThan(0.85);
    expect(classifier.info).toMatchObject({ dataset: "mnist-builtin", seed: 0, steps: 93, batchSize: 32, trainCount: 3000, testCount: 1000 });
    expect(classifier.evaluate(test).accuracy).toBe(classifier.info.testAccuracy);
    expect(classifier.config).toMatchObject({ imageSize: [28, 28], channels: 1, classes: 10, widths: [32, 64, 128], featureDim: 128 });
  });

  it("gives a feature extractor whose name says it is this classifier, never Inception", () => {
    const extractor = classifierFeatureExtractor(classifier);
    expect(extractor.name).toMatch(/^classifier:mnist-builtin \(Dale CNN 32-64-128\/128, seed 0, test accuracy \d+\.\d\d% on 1000, weights sha256 [0-9a-f]{12}\)$/);
    expect(extractor.name).toContain(classifier.sha256.slice(0, 12));
    expect(extractor.name.toLowerCase()).not.toContain("inception");
    expect(extractor.dim).toBe(128);
    const x = tf.tidy(() => tf.div(tf.tensor4d(test.images.slice(0, 5 * 784), [5, 28, 28, 1], "float32"), 255)) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const f = extractor.features(x);
    const p = extractor.logits?.(x) as tf.Tensor2D;
    expect(f.shape).toEqual([5, 128]);
    expect(p.shape).toEqual([5, 10]);
    const sums = tf.tidy(() => tf.sum(p, 1).arraySync() as number[]);
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    expect(Math.min(...(f.dataSync() as Float32Array))).toBeGreaterThanOrEqual(0); // after the ReLU
    // Both from one forward pass: the same values as the two calls.
    const both = extractor.featuresAndLogits?.(x) as { features: tf.Tensor2D; logits: tf.Tensor2D };
    expect(Array.from(both.features.dataSync())).toEqual(Array.from(f.dataSync()));
    expect(Array.from(both.logits.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([f, p, both.features, both.logits]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("computes large batches in chunks with the same result", () => {
    const x = tf.tidy(() => tf.div(tf.tensor4d(test.images.slice(0, 300 * 784), [300, 28, 28, 1], "float32"), 255)) as tf.Tensor4D;
    const all = classifier.features(x);
    const both = classifier.featuresAndProbabilities(x); // chunked too, as one tensor split in two
    const probabilities = classifier.probabilities(x);
    expect(Array.from(both.features.dataSync())).toEqual(Array.from(all.dataSync()));
    expect(Array.from(both.probabilities.dataSync())).toEqual(Array.from(probabilities.dataSync()));
    tf.dispose([both.features, both.probabilities, probabilities]);
    const tail = tf.tidy(() => classifier.features(tf.slice(x, [290, 0, 0, 0], [10, -1, -1, -1])));
    const allTail = tf.tidy(() => tf.slice(all, [290, 0], [10, -1]));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(allTail, tail))).dataSync()[0] as number);
    expect(all.shape).toEqual([300, 128]);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, all, tail, allTail]);
  });

  it("round-trips through a file: same bytes, same features, same name", async () => {
    const path = join(dir, "sub", "mnist.safetensors");
    await saveClassifier(classifier, path);
    const loaded = await loadClassifier(path);
    expect(Buffer.from(loaded.toBytes()).equals(Buffer.from(classifier.toBytes()))).toBe(true);
    expect(loaded.info).toEqual(classifier.info);
    expect(loaded.sha256).toBe(classifier.sha256);
    const x = tf.tidy(() => tf.div(tf.tensor4d(test.images.slice(0, 8 * 784), [8, 28, 28, 1], "float32"), 255)) as tf.Tensor4D;
    const [a, b] = [classifier.features(x), loaded.features(x)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    const extractor = classifierFeatureExtractor(loaded);
    expect(extractor.name).toBe(classifierFeatureExtractor(classifier).name);
    tf.dispose([x, a, b]);
    extractor.dispose();
  });

  it("rejects images of the wrong shape or dtype, naming the method and the argument", () => {
    const wrong = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    expect(() => classifier.features(wrong)).toThrow(/classifier\.features: images must be a \[N, 28, 28, 1\] tensor .*got \[2, 32, 32, 3\]/);
    const rank3 = tf.zeros([28, 28, 1]) as unknown as tf.Tensor4D;
    expect(() => classifier.logits(rank3)).toThrow(/classifier\.logits: images must be/);
    const ints = tf.zeros([1, 28, 28, 1], "int32") as tf.Tensor4D;
    expect(() => classifier.probabilities(ints)).toThrow(/classifier\.probabilities: images must be float32/);
    tf.dispose([wrong, rank3, ints]);
    expect(() => classifier.evaluate({ ...tiny, labels: Array.from(tiny.labels).slice(1) })).toThrow(/classifier\.evaluate: data\.labels must hold one label per image/);
  });
});

describe("trainClassifier", () => {
  it("is deterministic: same seed and data give byte-identical weights, another seed others", async () => {
    const before = tf.memory().numTensors;
    const a = await trainClassifier(tinyOptions());
    const b = await trainClassifier(tinyOptions());
    const c = await trainClassifier({ ...tinyOptions(), seed: 1 });
    expect(Buffer.from(a.toBytes()).equals(Buffer.from(b.toBytes()))).toBe(true);
    expect(a.sha256).toBe(b.sha256);
    expect(c.sha256).not.toBe(a.sha256);
    [a, b, c].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reports progress and stops on abort without leaking tensors", async () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const ac = new AbortController();
    const run = trainClassifier({
      ...tinyOptions(),
      steps: 20,
      progressEvery: 2,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.step);
        expect(Number.isFinite(p.loss)).toBe(true);
        if (p.step === 4) ac.abort(new Error("stop here"));
      },
    });
    await expect(run).rejects.toThrow("stop here");
    expect(seen).toEqual([2, 4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("validates its options, naming the argument", async () => {
    await expect(trainClassifier({ ...tinyOptions(), train: { ...tiny, images: tiny.images.subarray(1) } })).rejects.toThrow(
      /trainClassifier: train\.images has 50175 values, but count \* height \* width \* channels = 64 \* 28 \* 28 \* 1 = 50176/,
    );
    await expect(trainClassifier({ ...tinyOptions(), test: { ...tiny, height: 14, width: 56 } as LabelledImages })).rejects.toThrow(/trainClassifier: test holds 14x56x1 images/);
    await expect(trainClassifier({ ...tinyOptions(), epochs: 1 })).rejects.toThrow(/give epochs or steps, not both/);
    await expect(trainClassifier({ ...tinyOptions(), classes: 3 })).rejects.toThrow(/train\.labels has class 9, but classes is 3/);
    await expect(trainClassifier({ ...tinyOptions(), batchSize: 65 })).rejects.toThrow(/fewer than one batch of 65/);
    await expect(trainClassifier({ ...tinyOptions(), widths: [4, 8, 8, 8] })).rejects.toThrow(/imageSize \[28, 28\] must divide by 2\^\(widths.length - 1\) = 8/);
  });

  it("takes float32 images in [0, 1] the same as uint8 images", async () => {
    const asFloat = { ...tiny, images: Float32Array.from(tiny.images, (v) => v / 255) };
    const a = await trainClassifier(tinyOptions());
    const b = await trainClassifier({ ...tinyOptions(), train: asFloat });
    expect(b.config.mean[0]).toBeCloseTo(a.config.mean[0] as number, 6);
    const x = tf.tidy(() => tf.div(tf.tensor4d(tiny.images.slice(0, 4 * 784), [4, 28, 28, 1], "float32"), 255)) as tf.Tensor4D;
    const [fa, fb] = [a.logits(x), b.logits(x)];
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(fa, fb))).dataSync()[0] as number);
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, fa, fb]);
    a.dispose();
    b.dispose();
  });
});

describe("classifier files", () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    const c = await trainClassifier(tinyOptions());
    bytes = c.toBytes();
    c.dispose();
  });

  it("use the safetensors layout with the config, info and sha256 in the metadata", () => {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[] }> & {
      __metadata__: Record<string, string>;
    };
    expect(n % 8).toBe(0);
    expect(header.__metadata__).toMatchObject({ format: "dale-classifier", version: "1" });
    expect(JSON.parse(header.__metadata__.info as string)).toMatchObject({ dataset: "tiny", seed: 0, steps: 6 });
    expect(header["conv0.w"]).toMatchObject({ dtype: "F32", shape: [3, 3, 1, 4] });
    expect(header["fc.w"]).toMatchObject({ dtype: "F32", shape: [8 * 14 * 14, 16] });
  });

  it("give a clear error when corrupted or truncated", async () => {
    const flipped = bytes.slice();
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 0x10;
    expect(() => classifierFromBytes(flipped, "x.safetensors")).toThrow(/^x\.safetensors: corrupted: the data's sha256 is [0-9a-f]{64}, the header says [0-9a-f]{64}\.$/);
    expect(() => classifierFromBytes(bytes.subarray(0, bytes.length - 100), "x.safetensors")).toThrow(
      /x\.safetensors: truncated: tensor "[^"]+" ends at data byte \d+, but the file holds \d+ data bytes/,
    );
    expect(() => classifierFromBytes(bytes.subarray(0, 50), "x.safetensors")).toThrow(/x\.safetensors: truncated: the header says \d+ header bytes, but the file has only 42/);
    expect(() => classifierFromBytes(bytes.subarray(0, 4), "x.safetensors")).toThrow(/x\.safetensors: truncated: 4 bytes, fewer than the 8-byte header length/);
    expect(() => classifierFromBytes(new TextEncoder().encode("not a classifier at all"), "x.safetensors")).toThrow(/x\.safetensors: truncated: the header says/);
    // A valid safetensors file that is not a classifier, and one of a later version of the format.
    const other = encodeSafetensors([["w", { data: new Float32Array(2), shape: [2] }]], { metadata: { format: "pt" } });
    expect(() => classifierFromBytes(other, "x.safetensors")).toThrow(/x\.safetensors: not a Dale classifier file \(its __metadata__\.format is "pt"/);
    const later = encodeSafetensors([["w", { data: new Float32Array(2), shape: [2] }]], { metadata: { format: "dale-classifier", version: "2" } });
    expect(() => classifierFromBytes(later, "x.safetensors")).toThrow(/x\.safetensors: written by an unknown version "2" of the format; this reader knows version 1/);
    const path = join(dir, "bad.safetensors");
    await writeFile(path, flipped);
    await expect(loadClassifier(path)).rejects.toThrow(`loadClassifier(${path}): corrupted`);
  });

  it("are cached by loadOrTrainClassifier: trained once, then loaded", async () => {
    const before = tf.memory().numTensors;
    const cacheDir = join(dir, "cache");
    let calls = 0;
    const train = () => {
      calls++;
      return tinyOptions();
    };
    const first = await loadOrTrainClassifier({ key: "tiny-v1-seed0", cacheDir, train });
    expect(first).toMatchObject({ cached: false, path: join(cacheDir, "tiny-v1-seed0.safetensors") });
    const second = await loadOrTrainClassifier({ key: "tiny-v1-seed0", cacheDir, train });
    expect(second.cached).toBe(true);
    expect(calls).toBe(1);
    expect(Buffer.from(await readFile(second.path)).equals(Buffer.from(bytes))).toBe(true); // same seed, same weights
    expect(second.classifier.sha256).toBe(first.classifier.sha256);
    first.classifier.dispose();
    second.classifier.dispose();
    expect(tf.memory().numTensors).toBe(before);

    await writeFile(join(cacheDir, "broken.safetensors"), bytes.subarray(0, 1000));
    await expect(loadOrTrainClassifier({ key: "broken", cacheDir, train })).rejects.toThrow(/broken\.safetensors\): truncated.*Delete the file to train the classifier again/);
    await expect(loadOrTrainClassifier({ key: "../escape", cacheDir, train })).rejects.toThrow(/key must be letters, digits/);
    expect(calls).toBe(1);
  });
});

describe("splitFixed", () => {
  it("splits 0..n-1 into two sorted, disjoint parts, the same every time", () => {
    const { train, test } = splitFixed(100, 70);
    expect(train.length).toBe(70);
    expect(test.length).toBe(30);
    expect(new Set([...train, ...test]).size).toBe(100);
    expect([...train]).toEqual([...train].sort((a, b) => a - b));
    expect(splitFixed(100, 70)).toEqual({ train, test });
    expect(splitFixed(100, 70, 1).train).not.toEqual(train);
    expect([...test]).not.toEqual(Array.from({ length: 30 }, (_, i) => 70 + i)); // shuffled, not a prefix
    expect(() => splitFixed(10, 11)).toThrow(/splitFixed: trainCount must be an integer in \[0, 10\], got 11/);
  });

  it("with takeImages gives the labelled records", () => {
    const part = takeImages(mnist, [5, 0]);
    expect(part.count).toBe(2);
    expect(part.labels[0]).toBe(mnist.labels[5]);
    expect(Array.from(part.images.subarray(0, 784))).toEqual(Array.from(mnist.images.subarray(5 * 784, 6 * 784)));
    expect(() => takeImages(mnist, [4000])).toThrow(/takeImages: indices\[0\] = 4000 is not a record index in \[0, 4000\)/);
  });
});
