import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { dataParallel } from "./node";

// The test runs the source, the workers the build: `npx tsup` (turbo's test task builds first).
const workerUrl = new URL("../dist/parallel-worker.js", import.meta.url);
const module = new URL("./__fixtures__/linear-shard.mjs", import.meta.url);

function batch(n: number) {
  return [tf.randomNormal([n, 5], 0, 1, "float32", 7), tf.randomNormal([n, 3], 0, 1, "float32", 8)] as [tf.Tensor2D, tf.Tensor2D];
}

describe("dataParallel", () => {
  it("with 1 worker gives the loss and gradients of the whole batch, and forward concatenates", async () => {
    const start = tf.memory().numTensors;
    const dp = await dataParallel({ module, workerUrl, workers: 1, args: { seed: 3 } });
    const [x, t] = batch(7); // odd: slices of 4 and 3 rows
    try {
      const { loss, grads } = await dp.lossAndGrads([x, t]);
      const expected = tf.variableGrads(() => tf.mean(tf.squaredDifference(tf.add(tf.matMul(x, dp.vars[0]!), dp.vars[1]!), t)), dp.vars);
      expect(Object.keys(grads).sort()).toEqual(dp.vars.map((v) => v.name).sort());
      expect(loss).toBeCloseTo((await expected.value.data())[0] as number, 5);
      for (const v of dp.vars) {
        const got = await grads[v.name]!.data();
        const want = await expected.grads[v.name]!.data();
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(Math.abs(g - (want[i] as number))).toBeLessThan(1e-5));
      }
      tf.dispose([expected.value, expected.grads, grads]);

      // The master weights reach the worker: change them and compare forward with the single-thread one.
      tf.tidy(() => dp.vars[0]!.assign(tf.mul(dp.vars[0]!, 2)));
      const y = await dp.forward([x]);
      const want = tf.tidy(() => tf.add(tf.matMul(x, dp.vars[0]!), dp.vars[1]!));
      expect(y.shape).toEqual([7, 3]);
      const yd = await y.data();
      (await want.data()).forEach((w, i) => expect(Math.abs(w - (yd[i] as number))).toBeLessThan(1e-5));
      tf.dispose([y, want]);
    } finally {
      await dp.dispose();
      tf.dispose([x, t, ...dp.vars]);
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  it("with 0 workers runs on the main thread", async () => {
    const start = tf.memory().numTensors;
    const dp = await dataParallel({ module, workerUrl, workers: 0, args: { seed: 3 } });
    const [x, t] = batch(3);
    const { loss, grads } = await dp.lossAndGrads([x, t]);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Object.keys(grads)).toHaveLength(2);
    const y = await dp.forward([x]);
    expect(y.shape).toEqual([3, 3]);
    tf.dispose([x, t, y, grads, ...dp.vars]);
    await dp.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("rejects with the message of an error thrown in a worker, and leaks nothing", async () => {
    const start = tf.memory().numTensors;
    const dp = await dataParallel({ module, workerUrl, workers: 1, args: { seed: 1, failInWorker: "boom in the worker" } });
    const [x, t] = batch(4);
    await expect(dp.lossAndGrads([x, t])).rejects.toThrow("boom in the worker");
    // The worker survives the error.
    const y = await dp.forward([x]);
    expect(y.shape).toEqual([4, 3]);
    tf.dispose([x, t, y, ...dp.vars]);
    await dp.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("rejects when the module lacks the factory", async () => {
    await expect(dataParallel({ module, workerUrl, workers: 1, exportName: "nope" })).rejects.toThrow(/no exported function "nope"/);
  });
});
