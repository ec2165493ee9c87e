import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { batches, flipMask, fromPositive, randomFlipLeftRight, toPositive, toTensor } from "./index";
import type { Dataset } from "./index";

function fakeDataset(count: number, h: number, w: number, c: number): Dataset {
  const images = new Uint8Array(count * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37) % 256;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, height: h, width: w, channels: c, name: "cifar10", split: "train", source: "test" };
}

describe("toTensor", () => {
  it("gives float32 [N, H, W, C] in [0, 1], optionally at chosen indices", () => {
    const ds = fakeDataset(4, 2, 3, 3);
    const before = tf.memory().numTensors;
    const all = toTensor(ds);
    expect(all.shape).toEqual([4, 2, 3, 3]);
    expect(all.dtype).toBe("float32");
    const v = all.dataSync();
    expect(v[5]).toBeCloseTo(ds.images[5]! / 255, 6);
    const picked = toTensor(ds, { indices: Int32Array.from([3, 1]) });
    expect(picked.shape).toEqual([2, 2, 3, 3]);
    expect(picked.dataSync()[0]).toBeCloseTo(ds.images[3 * 18]! / 255, 6);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    all.dispose();
    picked.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => toTensor(ds, { indices: [4] })).toThrow(/toTensor: options.indices\[0\] is 4; expected an integer in \[0, 4\)/);
  });
});

describe("toPositive / fromPositive", () => {
  it("round-trips [0, 1] through [shift, shift + 1] without leaking tensors", () => {
    const x = tf.tensor1d([0, 0.25, 0.5, 1]);
    const before = tf.memory().numTensors;
    for (const shift of [1, 2.5]) {
      const p = toPositive(x, shift);
      expect(Array.from(p.dataSync())).toEqual([0, 0.25, 0.5, 1].map((v) => v + shift));
      const back = fromPositive(p, shift);
      const got = back.dataSync();
      [0, 0.25, 0.5, 1].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
      p.dispose();
      back.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("defaults to shift 1 and clips out-of-range values", () => {
    const x = tf.tensor1d([0.5, 2.7, 1.5]);
    const p = toPositive(tf.tensor1d([0]));
    expect(p.dataSync()[0]).toBe(1);
    const back = fromPositive(x);
    expect(Array.from(back.dataSync())).toEqual([0, 1, 0.5]);
    tf.dispose([x, p, back]);
  });

  it("names the function and the argument on bad input", () => {
    const i = tf.tensor1d([1, 2], "int32");
    expect(() => toPositive(i)).toThrow("toPositive: x must be float32, got int32.");
    expect(() => fromPositive(i)).toThrow("fromPositive: x must be float32, got int32.");
    i.dispose();
  });
});

describe("randomFlipLeftRight", () => {
  it("flips the samples the seed picks, the same ones for the same seed", () => {
    const n = 16;
    const x = tf.tidy(() => tf.reshape(tf.range(0, n * 2 * 3 * 2, 1, "float32"), [n, 2, 3, 2])) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const a = randomFlipLeftRight(x, 7);
    const b = randomFlipLeftRight(x, 7);
    const c = randomFlipLeftRight(x, 8);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    const mask = flipMask(n, 7);
    expect(mask.some((m) => m === 1) && mask.some((m) => m === 0)).toBe(true);
    const xs = x.arraySync();
    const as = a.arraySync();
    for (let s = 0; s < n; s++) {
      const expected = mask[s] ? xs[s]!.map((row) => [...row].reverse()) : xs[s];
      expect(as[s]).toEqual(expected);
    }
    tf.dispose([a, b, c, x]);
    expect(() => randomFlipLeftRight(x, 1.5)).toThrow(/randomFlipLeftRight: seed must be an integer/);
  });
});

describe("batches", () => {
  it("covers every index exactly once per epoch and is deterministic for a seed", () => {
    const run = (seed: number) => [...batches(103, { batchSize: 10, seed, epochs: 2 })];
    const a = run(3);
    expect(a.length).toBe(22);
    expect(a.every((b) => b instanceof Int32Array)).toBe(true);
    for (const epoch of [a.slice(0, 11), a.slice(11)]) {
      const seen = epoch.flatMap((b) => Array.from(b)).sort((p, q) => p - q);
      expect(seen).toEqual(Array.from({ length: 103 }, (_, i) => i));
      expect(epoch[10]!.length).toBe(3);
    }
    expect(a.map((b) => Array.from(b))).toEqual(run(3).map((b) => Array.from(b)));
    expect(Array.from(a[0]!)).not.toEqual(Array.from(run(4)[0]!));
    expect(Array.from(a[0]!)).not.toEqual(Array.from(a[11]!)); // a fresh permutation per epoch
  });

  it("drops the short last batch on request and iterates forever without epochs", () => {
    const dropped = [...batches(25, { batchSize: 10, seed: 0, dropLast: true, epochs: 1 })];
    expect(dropped.map((b) => b.length)).toEqual([10, 10]);
    const it = batches(5, { batchSize: 2, seed: 1 });
    const sizes: number[] = [];
    for (let k = 0; k < 30; k++) sizes.push(it.next().value!.length);
    expect(sizes.slice(0, 6)).toEqual([2, 2, 1, 2, 2, 1]);
  });

  it("validates its arguments", () => {
    expect(() => batches(0, { batchSize: 1, seed: 0 }).next()).toThrow("batches: count must be a positive integer, got 0.");
    expect(() => batches(5, { batchSize: 0, seed: 0 }).next()).toThrow(/batches: options.batchSize must be a positive integer/);
    expect(() => batches(5, { batchSize: 2, seed: 0.5 }).next()).toThrow(/batches: options.seed must be an integer/);
  });
});
