// GPU check for @dale/backend, run on the lent GPU machine (see the package README):
//   ../shared/gpu/pack.sh packages/backend/device/webgpu-check.ts && (device) source .device/setup.sh && node .device/app.mjs
// 1. initBackend() must choose WebGPU (Dawn) and register Dale's conv-gradient kernels.
// 2. Every case of the wasm kernel test, forward and both gradients, against tfjs' cpu backend.
// 3. Times of conv forward, input gradient and filter gradient: tfjs-webgpu's own kernels against Dale's.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { cases, type Case } from "../src/__fixtures__/conv-cases";
import { initBackend, registerConvGradKernels, replacedConvGradKernels } from "../src/index";

async function grads(c: Case, seed: number) {
  const out = tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, "float32", seed) as tf.Tensor4D;
    const w = tf.randomUniform(c.f, -1, 1, "float32", seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const dy = tf.randomUniform(y.shape, -1, 1, "float32", seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), dy)),
    )([x, w]);
    return [y, dx as tf.Tensor, dw as tf.Tensor];
  });
  const data = await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  return data as Float32Array[];
}

function worst(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)) / (1 + Math.abs(b[i] as number)));
  return a.length === b.length ? m : Infinity;
}

async function time(f: () => tf.Tensor, reps = 20): Promise<number> {
  for (let i = 0; i < 3; i++) {
    const t = f();
    await t.data();
    t.dispose();
  }
  const start = performance.now();
  let last: tf.Tensor | undefined;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = f();
  }
  await last?.data();
  last?.dispose();
  return (performance.now() - start) / reps;
}

const choice = await initBackend({ prefer: "webgpu", verbose: true });
if (choice.backend !== "webgpu") throw new Error(`expected webgpu, got ${choice.backend}`);
const original = replacedConvGradKernels("webgpu");
const adapter = await (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; device: string } }> } } }).navigator.gpu.requestAdapter();
console.log("adapter", JSON.stringify(adapter?.info ?? {}));

let failures = 0;
for (const filter of ["wgsl"] as const) {
  registerConvGradKernels("webgpu", { filter, force: true });
  for (const [i, c] of cases.entries()) {
    await tf.setBackend("cpu");
    const want = await grads(c, 10 * i);
    await tf.setBackend("webgpu");
    const got = await grads(c, 10 * i);
    const errs = got.map((g, k) => worst(g, want[k] as Float32Array));
    const ok = (errs[0] as number) < 1e-4 && (errs[1] as number) < 1e-3 && (errs[2] as number) < 1e-3;
    if (!ok) failures++;
    console.log(`${ok ? "ok  " : "FAIL"} filter=${filter} ${JSON.stringify(c)} y ${errs[0]?.toExponential(1)} dx ${errs[1]?.toExponential(1)} dw ${errs[2]?.toExponential(1)}`);
  }
}

// Timing: batch 128, 128 channels, 32x32, 3x3 same (the shape quoted in the compute issue).
const x = tf.randomNormal([128, 32, 32, 128]) as tf.Tensor4D;
const w = tf.randomNormal([3, 3, 128, 128]) as tf.Tensor4D;
const dy = tf.randomNormal([128, 32, 32, 128]) as tf.Tensor4D;
const gflop = (2 * 128 * 32 * 32 * 128 * 128 * 9) / 1e9;
const fwd = await time(() => tf.conv2d(x, w, 1, "same"));
// Each kernel alone, through the engine, as the gradient code calls it.
const filterAttrs = { strides: 1, pad: "same", dataFormat: "NHWC", dimRoundingMode: undefined, filterShape: w.shape };
const filterGrad = () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, filterAttrs as unknown as tf.NamedAttrMap) as tf.Tensor;
const inputGrad = () => tf.conv2dTranspose(dy, w, x.shape, 1, "same");
registerConvGradKernels("webgpu", { filter: "conv", force: true });
const ours = { input: await time(inputGrad), filter: await time(filterGrad), filterWgsl: 0 };
registerConvGradKernels("webgpu", { filter: "wgsl", force: true });
ours.filterWgsl = await time(filterGrad);
for (const [name, fn] of [["Conv2DBackpropInput", original.input], ["Conv2DBackpropFilter", original.filter]] as const) {
  if (fn) {
    tf.unregisterKernel(name, "webgpu");
    tf.registerKernel({ kernelName: name, backendName: "webgpu", kernelFunc: fn });
  }
}
const native = { input: await time(inputGrad), filter: await time(filterGrad, 5) };
registerConvGradKernels("webgpu", { filter: "wgsl", force: true });
const row = (n: string, ms: number) => `${n.padEnd(34)} ${ms.toFixed(2).padStart(8)} ms  ${(gflop / ms).toFixed(2).padStart(7)} TFLOP/s`;
console.log(row("conv2d forward", fwd));
console.log(row("input gradient, tfjs-webgpu", native.input));
console.log(row("input gradient, Dale", ours.input));
console.log(row("filter gradient, tfjs-webgpu", native.filter));
console.log(row("filter gradient, Dale conv", ours.filter));
console.log(row("filter gradient, Dale wgsl", ours.filterWgsl));
console.log(`GPU_CHECK_JSON ${JSON.stringify({ failures, fwd, ours, native, date: new Date().toISOString() })}`);
process.exit(failures === 0 ? 0 : 1);
