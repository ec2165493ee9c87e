// A full U-Net training step on WebGPU without a GPU: Dawn on SwiftShader (see @dale/backend's src/webgpu.test.ts for
// the set-up). The tiny U-Net's loss, every weight's gradient and one Adam update on WebGPU (with Dale's conv-gradient
// kernels) against the cpu backend. CI sets DALE_REQUIRE_WEBGPU=1; elsewhere the test is skipped with a note.
import { existsSync } from "node:fs";
import { adam, initBackend } from "@dale/backend";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createUNet, unetPresets } from "./index";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
const choice = await initBackend({ prefer: "webgpu" });
const available = choice.backend === "webgpu";
const why = choice.skipped.find((s) => s.name === "webgpu")?.reason ?? "";
await tf.setBackend("cpu");
if (!available && process.env.DALE_REQUIRE_WEBGPU === "1") throw new Error(`DALE_REQUIRE_WEBGPU=1 but WebGPU did not start: ${why}`);
if (!available) console.warn(`[webgpu] skipping the WebGPU U-Net test: ${why}`);

/** One training step from the same weights on `backend`: the loss, the gradients and the weights after Adam. */
async function step(backend: string): Promise<{ loss: number; grads: Float32Array[]; after: Float32Array[] }> {
  await tf.setBackend(backend);
  const model = createUNet(unetPresets.tiny, { seed: 0 });
  const x = tf.randomUniform([2, 28, 28, 1], 1, 2, "float32", 1);
  const t = tf.tensor1d([0.3, 0.8]);
  const target = tf.randomNormal([2, 28, 28, 1], 0, 1, "float32", 2);
  // Fresh weights give an exactly zero output (zero-initialised last conv); move them once so every gradient flows.
  const opt = adam(1e-2);
  for (let i = 0; i < 1; i++) opt.minimize(() => tf.mean(tf.square(tf.sub(model.apply(x, t), target))) as tf.Scalar, false, model.variables);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(model.apply(x, t), target))) as tf.Scalar, model.variables);
  const names = model.variables.map((v) => v.name);
  const out = { loss: (await value.data())[0] as number, grads: (await Promise.all(names.map((n) => (grads[n] as tf.Tensor).data()))) as Float32Array[], after: [] as Float32Array[] };
  opt.applyGradients(grads);
  out.after = (await Promise.all(model.variables.map((v) => v.data()))) as Float32Array[];
  tf.dispose([value, ...Object.values(grads), x, t, target, ...model.variables]);
  opt.dispose();
  return out;
}

describe.skipIf(!available)("the U-Net on WebGPU (SwiftShader)", () => {
  // SwiftShader needs about a minute for the two steps here on 2 idle cores, several beside other work.
  it("one training step gives the cpu backend's loss, gradients and updated weights", { timeout: 900_000 }, async () => {
    const cpu = await step("cpu");
    const gpu = await step("webgpu");
    await tf.setBackend("cpu");
    expect(Math.abs(gpu.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-4);
    // Gradient errors against the largest gradient of the network (per-weight scales would magnify float32 noise in
    // weights whose gradients are ~1e-4 of the others). The pre-step ran Adam on each backend, so the loss agreeing
    // also checks Dale's Adam on WebGPU.
    const globalMax = Math.max(...cpu.grads.map((g) => Math.max(...Array.from(g, Math.abs))));
    let worstGrad = 0;
    cpu.grads.forEach((g, i) => {
      for (let k = 0; k < g.length; k++) worstGrad = Math.max(worstGrad, Math.abs(((gpu.grads[i] as Float32Array)[k] as number) - (g[k] as number)) / globalMax);
    });
    console.log(`[webgpu] U-Net step: loss ${gpu.loss} vs ${cpu.loss} on cpu; worst gradient error ${worstGrad.toExponential(2)} of the largest gradient (${globalMax.toExponential(2)})`);
    expect(cpu.grads.length).toBeGreaterThan(10);
    // Measured on 2026-12-05: 6.5e-7 on SwiftShader (1.3e-4 after two Adam pre-steps, whose normalisation amplifies
    // float32 noise in tiny gradients; wasm against cpu then: 5.6e-6). A wrong kernel errs by the gradient itself.
    expect(worstGrad).toBeLessThan(1e-4);
    expect(gpu.after.every((w) => w.every(Number.isFinite))).toBe(true);
  });
});
