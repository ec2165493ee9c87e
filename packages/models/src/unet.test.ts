import "@dale/backend"; // registers tfjs gradients (and Dale's wasm conv-gradient kernels)
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createUNet, groupNorm, groupsFor, unetPresets, upsampleNearest2x, type UNet } from "./unet";

const tiny3 = { ...unetPresets.tiny, imageSize: [32, 32], channels: 3 } as const;

function input(model: UNet, batch: number, seed = 1): tf.Tensor4D {
  const [h, w] = model.config.imageSize;
  return tf.add(tf.randomUniform([batch, h, w, model.config.channels], 0, 1, "float32", seed), 1) as tf.Tensor4D;
}

/** Parameters of one residual block of the tiny config (time embedding 4 * 8 = 32), counted by hand. */
function resParams(cin: number, cout: number): number {
  const norm1 = 2 * cin;
  const conv1 = 9 * cin * cout + cout;
  const temb = 32 * cout + cout;
  const norm2 = 2 * cout;
  const conv2 = 9 * cout * cout + cout;
  const skip = cin !== cout ? cin * cout + cout : 0;
  return norm1 + conv1 + temb + norm2 + conv2 + skip;
}

function tinyParams(c: number): number {
  const temb = 8 * 32 + 32 + 32 * 32 + 32;
  const convIn = 9 * c * 8 + 8;
  const down = resParams(8, 8) + (9 * 8 * 8 + 8) + resParams(8, 16); // level 0, its downsample, level 1
  const attn16 = 2 * 16 + 4 * (16 * 16 + 16); // norm, q, k, v, proj
  const mid = 2 * resParams(16, 16) + attn16;
  // Up: level 1 takes the skips [16 (down.1.res.0), 8 (down.0.downsample)], level 0 takes [8 (down.0.res.0), 8 (conv_in)].
  const up = resParams(16 + 16, 16) + resParams(16 + 8, 16) + (9 * 16 * 16 + 16) + resParams(16 + 8, 8) + resParams(8 + 8, 8);
  const out = 2 * 8 + 9 * 8 * c + c;
  return temb + convIn + down + mid + up + out;
}

const count = (m: UNet) => m.variables.reduce((a, v) => a + v.size, 0);

describe("createUNet", () => {
  it("maps 28x28x1 and 32x32x3 to their own shape, with the hand-counted parameters", () => {
    for (const [config, params] of [
      [unetPresets.tiny, 41609],
      [tiny3, 41899],
    ] as const) {
      const model = createUNet(config, { seed: 0 });
      const x = input(model, 2);
      const t = tf.tensor1d([0.1, 0.7]);
      const out = model.apply(x, t);
      expect(out.shape).toEqual(x.shape);
      expect(count(model)).toBe(tinyParams(config.channels));
      expect(count(model)).toBe(params);
      // DDPM's zero-initialised output conv: the initial output is exactly zero.
      expect(tf.max(tf.abs(out)).dataSync()[0]).toBe(0);
      tf.dispose([x, t, out]);
      model.dispose();
    }
  });

  it("names its variables deterministically", () => {
    const model = createUNet(unetPresets.tiny);
    const names = Object.keys(model.namedVariables());
    expect(names).toContain("down.0.res.0.conv1.w");
    expect(names).toContain("down.1.res.0.skip.w");
    expect(names).toContain("mid.attn.0.q.w");
    expect(names).toContain("up.1.upsample.w");
    expect(names).toContain("conv_out.w");
    expect(model.namedVariables()["down.0.res.0.conv1.w"]?.shape).toEqual([3, 3, 8, 8]);
    const again = createUNet(unetPresets.tiny);
    expect(Object.keys(again.namedVariables())).toEqual(names);
    model.dispose();
    again.dispose();
  });

  it("is deterministic for a seed, conditioned on t, and leaks no tensors", () => {
    const a = createUNet(unetPresets.tiny, { seed: 7, zeroInit: false });
    const b = createUNet(unetPresets.tiny, { seed: 7, zeroInit: false });
    const c = createUNet(unetPresets.tiny, { seed: 8, zeroInit: false });
    const x0 = input(a, 1);
    const x = tf.concat([x0, x0]);
    const t = tf.tensor1d([0.05, 0.9]);
    const before = tf.memory().numTensors;
    const ya = a.apply(x, t);
    expect(tf.memory().numTensors).toBe(before + 1);
    const yb = b.apply(x, t);
    const yc = c.apply(x, t);
    expect(Array.from(ya.dataSync())).toEqual(Array.from(yb.dataSync()));
    expect(tf.max(tf.abs(tf.sub(ya, yc))).dataSync()[0]).toBeGreaterThan(1e-3);
    // Same image, two times: the outputs differ only through the time embedding.
    const [y1, y2] = tf.split(ya, 2);
    expect(tf.max(tf.abs(tf.sub(y1 as tf.Tensor, y2 as tf.Tensor))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([x0, x, t, ya, yb, yc, y1 as tf.Tensor, y2 as tf.Tensor]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('with input "log" it is the same network applied to log x (same weights), and the config records it', () => {
    const plain = createUNet(unetPresets.tiny, { seed: 4, zeroInit: false, name: "plain" });
    const logged = createUNet({ ...unetPresets.tiny, input: "log" }, { seed: 4, zeroInit: false, name: "logged" });
    expect(plain.config.input).toBe("x");
    expect(logged.config.input).toBe("log");
    const x = input(plain, 2, 5);
    const t = tf.tensor1d([0.2, 0.7]);
    const [a, b] = [logged.apply(x, t), tf.tidy(() => plain.apply(tf.log(x), t))];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    expect(() => createUNet({ ...unetPresets.tiny, input: "sqrt" as "log" })).toThrow(/input must be "x" or "log", got sqrt/);
    tf.dispose([x, t, a, b]);
    plain.dispose();
    logged.dispose();
  });

  it("applies dropout only in training mode", () => {
    const model = createUNet({ ...unetPresets.tiny, dropout: 0.5 }, { seed: 1, zeroInit: false });
    const x = input(model, 1);
    const t = tf.tensor1d([0.3]);
    const [e1, e2, d1] = [model.apply(x, t), model.apply(x, t), model.apply(x, t, { training: true, seed: 3 })];
    expect(Array.from(e1.dataSync())).toEqual(Array.from(e2.dataSync()));
    expect(tf.max(tf.abs(tf.sub(e1, d1))).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([x, t, e1, e2, d1]);
    model.dispose();
  });

  it("rejects image sizes that do not halve, and bad inputs, with clear errors", () => {
    expect(() => createUNet({ ...unetPresets.tiny, imageSize: [28, 28], chMult: [1, 2, 2, 2] })).toThrow(
      /imageSize \[28, 28\] must divide by 2\^\(levels - 1\) = 8 for chMult of 4 levels/,
    );
    expect(() => createUNet({ ...unetPresets.tiny, imageSize: [30, 28] , chMult: [1, 2, 2] })).toThrow(/must divide by .* = 4/);
    expect(() => createUNet({ ...unetPresets.tiny, attnResolutions: [5] })).toThrow(/attnResolutions entry 5 is not a level's height/);
    expect(() => createUNet({ ...unetPresets.tiny, ch: 0 })).toThrow(/ch must be a positive integer/);
    const model = createUNet(unetPresets.tiny);
    const x = tf.ones([1, 32, 32, 1]);
    const t = tf.tensor1d([0.5]);
    expect(() => model.apply(x, t)).toThrow(/unet.apply: x must be \[batch, 28, 28, 1\]/);
    const x2 = tf.ones([2, 28, 28, 1]);
    expect(() => model.apply(x2, t)).toThrow(/t must be \[2\]/);
    tf.dispose([x, t, x2]);
    model.dispose();
  });

  it("passes finite, nonzero gradients to most variables", () => {
    const model = createUNet(unetPresets.tiny, { seed: 2, zeroInit: false });
    const x = input(model, 2);
    const t = tf.tensor1d([0.2, 0.6]);
    const target = tf.randomNormal(x.shape, 0, 1, "float32", 5);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(model.apply(x, t), target))) as tf.Scalar, model.variables);
    let good = 0;
    for (const g of Object.values(grads)) {
      const a = g.dataSync();
      if (a.every(Number.isFinite) && a.some((v) => v !== 0)) good++;
    }
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads).length).toBe(model.variables.length);
    expect(good / model.variables.length).toBeGreaterThan(0.9);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, target]);
    model.dispose();
  });
});

describe("building blocks", () => {
  it("group norm keeps two channels per group at least, and normalises each group over H, W and its channels", () => {
    expect([groupsFor(8), groupsFor(24), groupsFor(32), groupsFor(64), groupsFor(96), groupsFor(7), groupsFor(1)]).toEqual([4, 12, 16, 32, 32, 1, 1]);
    const x = tf.randomNormal([2, 4, 4, 64], 3, 2, "float32", 1) as tf.Tensor4D;
    const p = { gamma: tf.ones([64]), beta: tf.zeros([64]) };
    const y = groupNorm(x, p);
    const g = tf.reshape(y, [2, 4, 4, 32, 2]);
    const { mean, variance } = tf.moments(g, [1, 2, 4]);
    expect(tf.max(tf.abs(mean)).dataSync()[0]).toBeLessThan(1e-4);
    expect(tf.max(tf.abs(tf.sub(variance, 1))).dataSync()[0]).toBeLessThan(1e-3);
    tf.dispose([x, p.gamma, p.beta, y, g, mean, variance]);
  });

  it("nearest upsampling repeats each pixel 2x2", () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = upsampleNearest2x(x);
    expect(Array.from(y.dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    tf.dispose([x, y]);
  });
});
