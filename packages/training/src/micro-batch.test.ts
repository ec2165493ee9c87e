import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { inSlices, type LossAndGrads } from "./loss";
import { readLossCsv, train, wasmMemoryError } from "./train";

const tmp = mkdtempSync(join(tmpdir(), "dale-micro-batch-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Least squares on 7 rows: loss = mean_i (x_i . w - y_i)^2 + b^2, a mean over the batch like the trainer's losses
// (b's term is the same in every slice, so it must come out once, not once per slice).
const X = [
  [0.3, -1.2, 2.0],
  [1.5, 0.4, -0.7],
  [-0.9, 2.2, 0.1],
  [0.0, -0.3, 1.1],
  [2.4, 1.0, -1.6],
  [-1.1, -0.8, 0.5],
  [0.7, 1.9, 0.9],
];
const Y = [1.0, -2.0, 0.5, 3.0, -0.25, 1.75, 0.0];

function setup() {
  const w = tf.variable(tf.tensor1d([0.5, -0.25, 1.5]), true, "w");
  const b = tf.variable(tf.scalar(0.75), true, "b");
  const pass = async ([x, y]: tf.Tensor[]): Promise<LossAndGrads> => {
    const { value, grads } = tf.variableGrads(
      () => tf.add(tf.mean(tf.square(tf.sub(tf.squeeze(tf.matMul(x as tf.Tensor2D, tf.reshape(w, [3, 1])), [1]), y as tf.Tensor))), tf.square(b)) as tf.Scalar,
      [w, b],
    );
    const loss = (await value.data())[0] as number;
    value.dispose();
    return { loss, grads };
  };
  return { w, b, pass, dispose: () => tf.dispose([w, b]) };
}

/** The exact loss and gradients, in double precision. */
function exact() {
  const w = [0.5, -0.25, 1.5];
  const b = 0.75;
  const r = X.map((x, i) => x.reduce((a, xj, j) => a + xj * (w[j] as number), 0) - (Y[i] as number));
  const n = X.length;
  const loss = r.reduce((a, ri) => a + ri * ri, 0) / n + b * b;
  const gw = [0, 1, 2].map((j) => r.reduce((a, ri, i) => a + (2 * ri * (X[i]?.[j] as number)) / n, 0));
  return { loss, gw, gb: 2 * b };
}

describe("inSlices (gradient accumulation)", () => {
  it("returns the whole batch's loss and gradients for every slice size, and leaves no tensors", async () => {
    const { pass, dispose } = setup();
    const x = tf.tensor2d(X);
    const y = tf.tensor1d(Y);
    const want = exact();
    const before = tf.memory().numTensors;
    for (const micro of [1, 2, 3, 6, 7, 50]) {
      const calls: number[] = [];
      const got = await inSlices([x, y], micro, (part) => {
        calls.push(part[0]?.shape[0] as number);
        return pass(part);
      });
      expect(calls).toEqual(micro >= 7 ? [7] : micro === 3 ? [3, 3, 1] : micro === 2 ? [2, 2, 2, 1] : micro === 6 ? [6, 1] : [1, 1, 1, 1, 1, 1, 1]);
      expect(got.loss).toBeCloseTo(want.loss, 5);
      const gw = Array.from(await (got.grads.w as tf.Tensor).data());
      const gb = (await (got.grads.b as tf.Tensor).data())[0] as number;
      gw.forEach((g, j) => expect(g).toBeCloseTo(want.gw[j] as number, 5));
      expect(gb).toBeCloseTo(want.gb, 5);
      tf.dispose(Object.values(got.grads));
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([x, y]);
    dispose();
  });

  it("refuses bad arguments by name, and disposes what it summed when a pass throws", async () => {
    const { pass, dispose } = setup();
    const x = tf.tensor2d(X);
    const y = tf.tensor1d(Y);
    await expect(inSlices([x, y], 0, pass)).rejects.toThrow(/^inSlices: micro must be a positive integer, got 0\.$/);
    await expect(inSlices([x, tf.tensor1d([1, 2])], 2, pass)).rejects.toThrow(/^inSlices: every array must have the batch \(7\) as its first dimension; got shape \[2\]\.$/);
    await expect(inSlices([], 2, pass)).rejects.toThrow(/^inSlices: arrays must hold/);
    const before = tf.memory().numTensors;
    let calls = 0;
    await expect(
      inSlices([x, y], 2, async (part) => {
        if (++calls === 3) throw new Error("boom");
        return pass(part);
      }),
    ).rejects.toThrow("boom");
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    dispose();
  });
});

describe("train with microBatch", () => {
  // The same run with the batch at once and in slices of 3 (3 + 3 + 2): the same draws and the same gradients, so the
  // same losses, up to float rounding. Step 1's loss is the initial weights' (it checks the slices' draws and their
  // weighting); steps 2 and 3 follow the updates (a wrong gradient would move them apart).
  for (const run of [
    { name: "GBM, reference recipe", options: { process: "gbm", recipe: "reference" } },
    { name: "VP, EDM recipe", options: { process: "vp", recipe: "edm" } },
  ] as const) {
    it(`takes the same steps as the whole batch (${run.name}), and leaves no tensors`, async () => {
      const base = { dataset: "builtin-mnist", model: "tiny", trainImages: 64, batch: 8, sampleCount: 0, checkpointEvery: 0, steps: 3, ...run.options } as const;
      const before = tf.memory().numTensors;
      const whole = await train({ ...base, out: join(tmp, `${run.options.process}-whole`) });
      const sliced = await train({ ...base, out: join(tmp, `${run.options.process}-sliced`), microBatch: 3 });
      expect(tf.memory().numTensors).toBe(before);
      expect(sliced.config.microBatch).toBe(3);
      const a = readLossCsv(join(whole.out, "loss.csv"));
      const b = readLossCsv(join(sliced.out, "loss.csv"));
      expect(b.map((r) => r.step)).toEqual([1, 2, 3]);
      for (let i = 0; i < 3; i++) expect(Math.abs((b[i]?.loss as number) - (a[i]?.loss as number))).toBeLessThan(1e-4 * Math.abs(a[i]?.loss as number));
      // The losses do change from step to step, so equal rows are not equal by accident.
      expect(a[0]?.loss).not.toBe(a[2]?.loss);
    });
  }

  it("is a setting of the call: a resume may change it, and does not inherit it", async () => {
    const out = join(tmp, "resume");
    const base = { dataset: "builtin-mnist", process: "gbm", model: "tiny", trainImages: 64, batch: 8, sampleCount: 0, checkpointEvery: 1 } as const;
    await train({ ...base, out, steps: 1, microBatch: 4 });
    const resumed = await train({ out, resume: true, steps: 2, sampleCount: 0 });
    expect(resumed.config.microBatch).toBeNull();
    const again = await train({ out, resume: true, steps: 3, sampleCount: 0, microBatch: 2 });
    expect(again.config.microBatch).toBe(2);
    await expect(train({ ...base, out: join(tmp, "bad"), steps: 1, microBatch: 0 })).rejects.toThrow(/microBatch/);
  });
});

describe("wasmMemoryError", () => {
  it("explains the wasm backend's out-of-memory errors and suggests a micro-batch; passes any other error through", () => {
    const abort = new Error("Aborted(). Build with -sASSERTIONS for more info.");
    const e = wasmMemoryError(abort, "wasm", 1, 128, null) as Error;
    expect(e.message).toMatch(/^train: step 1 failed on tfjs' wasm backend with "Aborted\(\)\. Build with -sASSERTIONS for more info\.": the backend's memory \(at most 4 GiB\) ran out, a batch of 128 images at once being too many/);
    expect(e.message).toMatch(/--micro-batch 64\) to compute each batch of 128 in slices of 64/);
    expect(e.cause).toBe(abort);
    const oob = wasmMemoryError(new RangeError("memory access out of bounds"), "wasm", 7, 128, 64) as Error;
    expect(oob.message).toMatch(/micro-batches of 64 images being too many.*--micro-batch 32\)/);
    const other = new Error("shapes do not match");
    expect(wasmMemoryError(other, "wasm", 1, 128, null)).toBe(other);
    expect(wasmMemoryError(abort, "tensorflow", 1, 128, null)).toBe(abort);
  });
});
