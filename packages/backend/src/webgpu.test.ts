// Dale's WebGPU kernels without a GPU: Dawn (the `webgpu` package) on SwiftShader, the CPU Vulkan driver that Debian's
// chromium ships (/usr/lib/chromium/vk_swiftshader_icd.json; Dawn also needs Debian's libvulkan1). Correctness only:
// SwiftShader's speed means nothing. CI installs both and sets DALE_REQUIRE_WEBGPU=1, so there a missing WebGPU fails;
// elsewhere these tests are skipped with a note.
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { cases, type Case } from "./__fixtures__/conv-cases";
import { modes, shapes, worstError } from "./__fixtures__/resize-grad-brute";
import { initBackend, registerResizeNearestNeighborGrad, replacedConvGradKernels, unregisterResizeNearestNeighborGrad } from "./index";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
const before = tf.getBackend();
const choice = await initBackend({ prefer: "webgpu" });
const available = choice.backend === "webgpu";
const why = choice.skipped.find((s) => s.name === "webgpu")?.reason ?? "";
await tf.setBackend(before);
if (!available && process.env.DALE_REQUIRE_WEBGPU === "1") {
  throw new Error(`DALE_REQUIRE_WEBGPU=1 but WebGPU did not start: ${why} (Debian: apt-get install chromium libvulkan1; VK_ICD_FILENAMES=${SWIFTSHADER}).`);
}
if (!available) console.warn(`[webgpu] skipping the WebGPU kernel tests: ${why}`);

/** y = conv2d(x, w) and its gradients with respect to x and w, for a random dy, on the active backend. */
async function convAndGrads(c: Case, seed: number): Promise<Float32Array[]> {
  const out = tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, "float32", seed) as tf.Tensor4D;
    const w = tf.randomUniform(c.f, -1, 1, "float32", seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const dy = tf.randomUniform(y.shape, -1, 1, "float32", seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), dy)))([x, w]);
    return [y, dx as tf.Tensor, dw as tf.Tensor];
  });
  const data = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
  tf.dispose(out);
  return data;
}

/** max |a - b| / (1 + |b|). */
function worst(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)) / (1 + Math.abs(b[i] as number)));
  return m;
}

describe.skipIf(!available)("Dale's WebGPU kernels on SwiftShader", () => {
  it("conv2d forward and both gradients (Dale's kernels replace tfjs-webgpu's) match the cpu backend on every case", async () => {
    expect(Object.keys(replacedConvGradKernels("webgpu")).length).toBeGreaterThan(0); // Dale's gradients are in place
    for (const [i, c] of cases.entries()) {
      await tf.setBackend("cpu");
      const want = await convAndGrads(c, 10 * i);
      await tf.setBackend("webgpu");
      const got = await convAndGrads(c, 10 * i);
      const [y, dx, dw] = got.map((g, k) => worst(g, want[k] as Float32Array));
      expect(y, JSON.stringify(c)).toBeLessThan(1e-4);
      expect(dx, JSON.stringify(c)).toBeLessThan(1e-3);
      expect(dw, JSON.stringify(c)).toBeLessThan(1e-3);
    }
    await tf.setBackend(before);
  });

  it("ResizeNearestNeighborGrad gives the exact gradient at batch > 1 in every mode, where tfjs-webgpu's own does not", async () => {
    await tf.setBackend("webgpu");
    try {
      let ownWrong = 0;
      for (const [xShape, size] of shapes.filter(([x]) => x[0] * x[1] * x[2] <= 512)) {
        for (const m of modes) {
          expect(await worstError(xShape, size, m), `x [${xShape}] -> ${size} ${JSON.stringify(m)}`).toBeLessThan(1e-4);
          // tfjs' own kernel, for contrast (not where its search window divides by zero: one source pixel, alignCorners).
          if (m.alignCorners && ((xShape[1] === 1 && size[0] > 1) || (xShape[2] === 1 && size[1] > 1))) continue;
          unregisterResizeNearestNeighborGrad("webgpu");
          try {
            if (!((await worstError(xShape, size, m)) < 1e-4)) ownWrong++;
          } finally {
            registerResizeNearestNeighborGrad("webgpu");
          }
        }
      }
      expect(ownWrong).toBeGreaterThan(0); // the test can tell a wrong kernel from a right one
    } finally {
      await tf.setBackend(before);
    }
  });
});
