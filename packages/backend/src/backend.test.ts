import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it } from "vitest";
import { gradientsRegistered, initBackend } from "./index";

describe("initBackend", () => {
  const saved = process.env.DALE_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.DALE_BACKEND;
    else process.env.DALE_BACKEND = saved;
  });

  it("chooses the fastest backend that starts and says why the faster ones were skipped", async () => {
    delete process.env.DALE_BACKEND;
    const choice = await initBackend();
    expect(tf.getBackend()).toBe(choice.backend);
    const order = ["tensorflow-gpu", "tensorflow", "webgpu", "webgl", "wasm", "cpu"];
    const skippedNames = choice.skipped.map((s) => s.name);
    expect(skippedNames).toEqual(order.slice(0, skippedNames.length));
    for (const s of choice.skipped) expect(s.reason.length).toBeGreaterThan(10);
    // Without the native packages (they cannot install on our machines) the reason names the package.
    const native = choice.skipped.find((s) => s.name === "tensorflow");
    if (native) expect(native.reason).toMatch(/@tensorflow\/tfjs-node/);
    // Node has no WebGL: tfjs registers its webgl backend only in a browser.
    const webgl = choice.skipped.find((s) => s.name === "webgl");
    if (webgl) expect(webgl.reason).toMatch(/no WebGL here: .*only in a browser/);
  });

  it("honours DALE_BACKEND and rejects an unknown name", async () => {
    process.env.DALE_BACKEND = "cpu";
    expect((await initBackend()).backend).toBe("cpu");
    process.env.DALE_BACKEND = "tpu";
    await expect(initBackend()).rejects.toThrow(/DALE_BACKEND must be one of tensorflow-gpu, tensorflow, webgpu, webgl, wasm, cpu, got "tpu"/);
  });

  it("gives wasmPaths to tfjs' setWasmPaths before wasm starts, and a bad one is wasm's reason to be skipped", async () => {
    delete process.env.DALE_BACKEND;
    const choice = await initBackend({ prefer: "wasm", wasmPaths: {} });
    expect(choice.skipped[0]).toEqual({ name: "wasm", reason: expect.stringMatching(/^setWasmPaths: There were no entries found for the following binaries/) });
    expect(choice.backend).not.toBe("wasm");
    expect(await tf.setBackend("wasm")).toBe(true); // the wasm backend started before (vitest's setup) and still serves
  });

  it("registers tfjs gradients once imported", () => {
    expect(gradientsRegistered()).toBe(true);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(tf.tensor([1, 2]));
    expect(Array.from(g.dataSync())).toEqual([2, 4]);
  });
});
