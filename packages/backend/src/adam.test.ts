import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { adam } from "./index";

describe("adam", () => {
  it("takes exactly the steps of tf.train.adam, leaks nothing, and resumes from getWeights", async () => {
    const make = (seed: number) => [tf.variable(tf.randomNormal([3, 4], 0, 1, "float32", seed)), tf.variable(tf.randomNormal([4], 0, 1, "float32", seed + 1))];
    const x = tf.randomNormal([5, 3], 0, 1, "float32", 9);
    const loss = (w: tf.Variable[]) => () =>
      tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w[0] as tf.Tensor), w[1] as tf.Tensor), 1))) as tf.Scalar;
    const a = make(1);
    const b = make(1);
    const ours = adam(0.05);
    const theirs = tf.train.adam(0.05);
    for (let i = 0; i < 5; i++) {
      ours.minimize(loss(a), false, a);
      theirs.minimize(loss(b), false, b);
    }
    a.forEach((v, i) => {
      const d = tf.max(tf.abs(tf.sub(v, b[i] as tf.Variable))).dataSync()[0] as number;
      expect(d).toBeLessThan(1e-6);
    });
    // Exact resume: a fresh optimizer loaded with the saved state continues identically.
    const saved = await ours.getWeights();
    const c = a.map((v) => tf.variable(v.clone()));
    const resumed = adam(0.05);
    // Variable names differ for c; map the moments onto them.
    await resumed.setWeights(
      saved.map((w) => {
        const idx = a.findIndex((v) => w.name.startsWith(`${v.name}/`));
        return idx < 0 ? w : { name: w.name.replace(a[idx]?.name as string, c[idx]?.name as string), tensor: w.tensor };
      }),
    );
    ours.minimize(loss(a), false, a);
    resumed.minimize(loss(c), false, c);
    a.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from((c[i] as tf.Variable).dataSync())));
    const before = tf.memory().numTensors;
    ours.minimize(loss(a), false, a);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...a, ...b, ...c, x]);
    ours.dispose();
    theirs.dispose();
    resumed.dispose();
  });

  it("returns every tensor it made on dispose", () => {
    const start = tf.memory().numTensors;
    const w = [tf.tidy(() => tf.variable(tf.ones([2, 2])))];
    const opt = adam(0.1);
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(w[0] as tf.Variable)) as tf.Scalar, false, w);
    opt.dispose();
    tf.dispose(w);
    expect(tf.memory().numTensors).toBe(start);
  });

  it("setLearningRate scales the next update and keeps the moments", () => {
    const start = tf.memory().numTensors;
    const x = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.25]]);
    const make = () => [tf.tidy(() => tf.variable(tf.tensor1d([0.3, -0.7])))];
    const loss = (w: tf.Variable[]) => () => tf.mean(tf.square(tf.sub(tf.matMul(x, tf.reshape(w[0] as tf.Variable, [2, 1])), 1))) as tf.Scalar;
    const a = make();
    const b = make();
    const oa = adam(0.05);
    const ob = adam(0.05);
    for (let i = 0; i < 3; i++) {
      oa.minimize(loss(a), false, a);
      ob.minimize(loss(b), false, b);
    }
    const before = Array.from((a[0] as tf.Variable).dataSync());
    oa.setLearningRate(0.01);
    expect(oa.learningRate).toBe(0.01);
    oa.minimize(loss(a), false, a);
    ob.minimize(loss(b), false, b);
    const da = Array.from((a[0] as tf.Variable).dataSync()).map((v, i) => v - (before[i] as number));
    const db = Array.from((b[0] as tf.Variable).dataSync()).map((v, i) => v - (before[i] as number));
    // Same state, same gradient: the update at lr 0.01 is a fifth of the one at lr 0.05.
    da.forEach((d, i) => expect(d).toBeCloseTo((db[i] as number) / 5, 6));
    expect(Math.abs(db[0] as number)).toBeGreaterThan(1e-3);
    oa.setLearningRate(0);
    const frozen = Array.from((a[0] as tf.Variable).dataSync());
    oa.minimize(loss(a), false, a);
    expect(Array.from((a[0] as tf.Variable).dataSync())).toEqual(frozen);
    expect(() => oa.setLearningRate(Number.NaN)).toThrow(/adam\.setLearningRate: learningRate must be a finite number >= 0, got NaN/);
    oa.dispose();
    ob.dispose();
    tf.dispose([...a, ...b, x]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it("rejects bad hyperparameters by name", () => {
    expect(() => adam(0)).toThrow(/learningRate must be in/);
    expect(() => adam(1e-3, 1)).toThrow(/beta1 must be in \[0, 1\)/);
  });
});
