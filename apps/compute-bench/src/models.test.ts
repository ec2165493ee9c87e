// The bench's U-Net nets, and Dale's wasm kernels on a whole U-Net: same output and gradients as tfjs' own kernels.
import { registerWasmKernels, unregisterWasmKernels } from "@dale/backend";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { parseCli } from "./cli";
import { BENCH_NETS, benchParamCount, buildBenchModel, netLabel, type UNetNet } from "./models";

describe("bench nets", () => {
  it("names and counts them", () => {
    expect(BENCH_NETS).toEqual(["small", "wide", "unet-mnistSmall", "unet-tiny", "unet-cifar10Small", "unet-cifar10"]);
    expect(netLabel("small")).toBe("ref-cnn-small");
    expect(netLabel("unet-tiny")).toBe("unet-tiny");
    expect(benchParamCount("unet-mnistSmall")).toBe(1112801); // packages/models documents this count
    expect(benchParamCount("small")).toBe(129600);
    expect(parseCli(["--nets", "unet-mnistSmall,small", "--kernels", "dale,conv-grad", "--workers", "0,1"], "user")).toMatchObject({
      nets: ["unet-mnistSmall", "small"],
      kernels: ["dale", "conv-grad"],
      workers: [0, 1],
    });
  });

  it("builds a U-Net with inputs [x, t, target], a scalar loss and an output of x's shape, leaking nothing", () => {
    const start = tf.memory().numTensors;
    const m = buildBenchModel("unet-tiny");
    const inputs = m.inputs(2);
    expect(inputs.map((t) => t.shape)).toEqual([[2, 28, 28, 1], [2], [2, 28, 28, 1]]);
    const y = m.forward(inputs);
    const loss = m.loss(inputs);
    expect(y.shape).toEqual([2, 28, 28, 1]);
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    tf.dispose([y, loss, ...inputs]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

// Forward output and the loss gradient of every weight, once with Dale's wasm kernels and once with tfjs' own.
async function outputAndGrads(net: UNetNet, batch: number, dale: boolean) {
  await tf.setBackend("wasm");
  if (dale) registerWasmKernels();
  else unregisterWasmKernels();
  try {
    const m = buildBenchModel(net, 3);
    const inputs = m.inputs(batch);
    try {
      const y = m.forward(inputs);
      const { value, grads } = tf.variableGrads(() => m.loss(inputs), m.vars);
      const out = {
        y: Float32Array.from(y.dataSync()),
        loss: value.dataSync()[0] as number,
        grads: m.vars.map((v) => Float32Array.from((grads[v.name] as tf.Tensor).dataSync())),
      };
      tf.dispose([y, value, ...Object.values(grads)]);
      return out;
    } finally {
      tf.dispose(inputs);
      m.dispose();
    }
  } finally {
    registerWasmKernels();
  }
}

describe.each(["unet-tiny", "unet-mnistSmall"] as const)("%s with and without Dale's wasm kernels", (net) => {
  it("computes the same output and loss gradients (float32 tolerance)", async () => {
    const ours = await outputAndGrads(net, 3, true);
    const theirs = await outputAndGrads(net, 3, false);
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // Largest difference over the largest magnitude of the reference. A gradient that is zero in exact arithmetic
    // (the attention's key bias: softmax ignores a shift shared by all keys) is rounding noise on both sides, so the
    // magnitude is floored at 1e-4 of the largest gradient of the model.
    const floor = 1e-4 * Math.max(...theirs.grads.map(maxAbs));
    const worst = (a: Float32Array, b: Float32Array, least = 1e-12) => {
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
      return err / Math.max(maxAbs(b), least);
    };
    expect(worst(ours.y, theirs.y)).toBeLessThan(1e-4);
    expect(Math.abs(ours.loss - theirs.loss) / theirs.loss).toBeLessThan(1e-5);
    expect(ours.grads.length).toBe(theirs.grads.length);
    const errors = ours.grads.map((g, i) => worst(g, theirs.grads[i] as Float32Array, floor));
    expect(Math.max(...errors)).toBeLessThan(1e-3);
  });
});
