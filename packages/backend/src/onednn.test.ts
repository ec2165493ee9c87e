// oneDNN's convolutions (the optional addon @dale/onednn) on the wasm backend, against tfjs' reference cpu backend:
// forward with strides, paddings and dilations, both gradients, batched matrix products with transposes and
// broadcasting, no leaks, and putting the previous kernels back.
// Where the addon is not built these tests are skipped with the reason, unless DALE_REQUIRE_ONEDNN=1 (CI), which
// makes a missing addon a failure.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { loadOneDnn } from "@dale/onednn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cases, type Case } from "./__fixtures__/conv-cases";
import "./gradients";
import { registerOneDnnKernels, replacedOneDnnKernels, unregisterOneDnnKernels } from "./kernels/onednn";

const loaded = loadOneDnn();
const required = process.env.DALE_REQUIRE_ONEDNN === "1";
if (!loaded.ok && !required) console.warn(`[onednn.test] skipped: ${loaded.reason}`);

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, "float32", seed);
}

type Dilated = Case & { dilations?: [number, number] };
const run = (c: Dilated, seed: number) =>
  tf.tidy(() => {
    const x = rand(c.x, seed) as tf.Tensor4D;
    const w = rand(c.f, seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad, "NHWC", c.dilations ?? 1);
    if (c.dilations !== undefined) return { y: Array.from(y.dataSync()) };
    const dy = rand(y.shape, seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), dy)))([x, w]);
    return { y: Array.from(y.dataSync()), dx: Array.from(dx!.dataSync()), dw: Array.from(dw!.dataSync()) };
  });

function worst(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return w;
}

const dilated: Dilated[] = [
  { x: [2, 12, 12, 3], f: [3, 3, 3, 4], strides: 1, pad: "same", dilations: [2, 2] },
  { x: [1, 13, 11, 2], f: [3, 2, 2, 3], strides: 1, pad: "valid", dilations: [2, 3] },
];

describe.skipIf(!loaded.ok && !required)("oneDNN convolutions on wasm match the cpu backend", () => {
  beforeAll(async () => {
    if (!loaded.ok) throw new Error(`DALE_REQUIRE_ONEDNN=1 but ${loaded.reason}`);
    await tf.setBackend("wasm");
    registerOneDnnKernels(loaded.onednn);
  });
  afterAll(() => unregisterOneDnnKernels());

  it.each([...cases, ...dilated].map((c, i) => [JSON.stringify(c), c, i] as const))("%s", async (_, c, i) => {
    await tf.setBackend("cpu");
    const want = run(c, 10 * i);
    await tf.setBackend("wasm");
    const callsBefore = loaded.ok ? loaded.onednn.cachedPrimitives() : 0;
    const got = run(c, 10 * i);
    expect(worst(got.y, want.y)).toBeLessThan(1e-5);
    if (want.dx !== undefined) {
      expect(worst(got.dx!, want.dx)).toBeLessThan(1e-4);
      expect(worst(got.dw!, want.dw!)).toBeLessThan(1e-4);
    }
    // The addon served it: it compiled primitives for this new shape (a fallback would not).
    expect(loaded.ok && loaded.onednn.cachedPrimitives()).toBeGreaterThan(callsBefore);
  });

  it.each([
    ["attention-like [4, 49, 16] x [4, 16, 49]", [4, 49, 16], [4, 16, 49], false, false],
    ["transposed a", [3, 8, 5], [3, 8, 6], true, false],
    ["transposed b, rank 4", [2, 3, 5, 7], [2, 3, 4, 7], false, true],
    ["b broadcast over the batch", [5, 6, 7], [7, 3], false, false],
    ["a broadcast, both transposed", [1, 9, 4], [3, 5, 9], true, true],
  ] as const)("BatchMatMul, %s, and its gradients where tfjs has them", async (_, sa, sb, ta, tb) => {
    // tfjs' own BatchMatMul gradient does not sum over a broadcast batch (on every backend): forward only there.
    const broadcast = sa.length !== sb.length || sa[0] !== sb[0];
    const f = () =>
      tf.tidy(() => {
        const a = rand([...sa], 1);
        const b = rand([...sb], 2);
        const y = tf.matMul(a, b, ta, tb);
        if (broadcast) return { y: Array.from(y.dataSync()), da: [], db: [], shape: y.shape };
        const dy = rand(y.shape, 3);
        const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, ta, tb), dy)))([a, b]);
        return { y: Array.from(y.dataSync()), da: Array.from(da!.dataSync()), db: Array.from(db!.dataSync()), shape: y.shape as number[] };
      });
    await tf.setBackend("cpu");
    const want = f();
    await tf.setBackend("wasm");
    const got = f();
    expect(got.shape).toEqual(want.shape);
    expect(worst(got.y, want.y)).toBeLessThan(1e-5);
    expect(worst(got.da, want.da)).toBeLessThan(1e-5);
    expect(worst(got.db, want.db)).toBeLessThan(1e-5);
  });

  it("leaks no tensors and no backend memory across a gradient", async () => {
    await tf.setBackend("wasm");
    run(cases[2]!, 1);
    const before = tf.memory();
    for (let k = 0; k < 3; k++) run(cases[2]!, 1);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it("names what it replaced, and unregistering puts the previous kernels back", () => {
    const before = replacedOneDnnKernels();
    expect(Object.keys(before).sort()).toEqual(["BatchMatMul", "Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput"]);
    const ours = tf.getKernel("Conv2D", "wasm")!.kernelFunc;
    unregisterOneDnnKernels();
    expect(tf.getKernel("Conv2D", "wasm")!.kernelFunc).toBe(before.Conv2D);
    expect(tf.getKernel("Conv2D", "wasm")!.kernelFunc).not.toBe(ours);
    expect(replacedOneDnnKernels()).toEqual({});
    registerOneDnnKernels(loaded.ok ? loaded.onednn : (undefined as never));
    expect(tf.getKernel("Conv2D", "wasm")!.kernelFunc).not.toBe(before.Conv2D);
  });
});
