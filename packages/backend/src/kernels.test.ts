// Every kernel Dale registers is checked against tfjs' reference cpu backend on random inputs, forward and gradient,
// over shapes, strides, paddings (and explicit paddings) in float32 tolerance.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { registerConvGradKernels, unregisterConvGradKernels } from "./kernels/conv-grad";
import "./gradients";
import { cases, type Case } from "./__fixtures__/conv-cases";

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, "float32", seed);
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

const grads = (c: Case, seed: number) => () =>
  tf.tidy(() => {
    const x = rand(c.x, seed) as tf.Tensor4D;
    const w = rand(c.f, seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const dy = rand(y.shape, seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), dy)),
    )([x, w]);
    return { y: y.arraySync(), dx: (dx as tf.Tensor).arraySync(), dw: (dw as tf.Tensor).arraySync() };
  });

function expectClose(a: unknown, b: unknown, tol: number): void {
  const fa = (a as number[]).flat(Infinity as 4) as number[];
  const fb = (b as number[]).flat(Infinity as 4) as number[];
  expect(fa.length).toBe(fb.length);
  let worst = 0;
  for (let i = 0; i < fa.length; i++) {
    worst = Math.max(worst, Math.abs((fa[i] as number) - (fb[i] as number)) / (1 + Math.abs(fb[i] as number)));
  }
  expect(worst).toBeLessThan(tol);
}

describe.each(["conv", "im2col"] as const)("conv gradient kernels on wasm (filter via %s) match the cpu backend", (filter) => {
  beforeAll(() => registerConvGradKernels("wasm", { filter, force: true }));

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))("%s", async (_, c, i) => {
    const want = await onBackend("cpu", grads(c, 10 * i));
    const got = await onBackend("wasm", grads(c, 10 * i));
    expectClose(got.y, want.y, 1e-5);
    expectClose(got.dx, want.dx, 1e-4);
    expectClose(got.dw, want.dw, 1e-4);
  });

  it("leaks no tensors and no backend memory across a gradient", async () => {
    await tf.setBackend("wasm");
    const c = cases[2] as Case;
    grads(c, 1)();
    const before = tf.memory();
    for (let k = 0; k < 3; k++) grads(c, 1)();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
  });
});

describe("unregisterConvGradKernels", () => {
  it("puts tfjs' own kernels back (wasm then has no Conv2DBackpropFilter) and registering again restores Dale's", async () => {
    await tf.setBackend("wasm");
    unregisterConvGradKernels("wasm");
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeUndefined();
    expect(tf.getKernel("Conv2DBackpropInput", "wasm")).toBeDefined();
    registerConvGradKernels("wasm");
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeDefined();
  });
});

describe("registration before the backend starts", () => {
  it("keeps wasm's strided Conv2DBackpropInput fallback working in a fresh process", () => {
    // vitest's setup starts wasm before this package is imported; a user's script does it the other way round.
    const script = `
      import * as tf from "@tensorflow/tfjs-core";
      import { initBackend } from "@dale/backend";
      await initBackend({ prefer: "wasm" });
      const x = tf.randomNormal([2, 8, 8, 3]); const w = tf.randomNormal([3, 3, 3, 4]);
      const [dx, dw] = tf.grads((a, b) => tf.sum(tf.conv2d(a, b, 2, "same")))([x, w]);
      console.log(tf.getBackend(), dx.shape.join("x"), dw.shape.join("x"));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    });
    expect(out.trim().split("\n").at(-1)).toBe("wasm 2x8x8x3 3x3x3x4");
  });
});
