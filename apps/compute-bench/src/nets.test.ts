import "@dale/backend"; // registers tfjs' gradients
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { buildRefCnn, refCnnLayers, refCnnParamCount } from "./nets";

const image = (batch: number, seed: number) => tf.randomNormal<tf.Rank.R4>([batch, 28, 28, 1], 0, 1, "float32", seed);

describe("reference nets in tfjs", () => {
  it("ref-cnn-small maps [2,28,28,1] to [2,28,28,1] without leaking", () => {
    const net = buildRefCnn("small");
    const x = image(2, 1);
    const before = tf.memory().numTensors;
    const y = net.forward(x);
    expect(y.shape).toEqual([2, 28, 28, 1]);
    expect(Number.isFinite(y.dataSync()[0])).toBe(true);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it("has the hand-computed parameter counts", () => {
    const small = 9 * (1 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 64 + 64 * 32 + 32 * 32 + 32 * 1);
    const wide = 9 * (1 * 64 + 64 * 64 + 64 * 128 + 128 * 128 + 128 * 128 + 128 * 64 + 64 * 64 + 64 * 1);
    expect(small).toBe(129600);
    expect(refCnnParamCount("small")).toBe(small);
    expect(refCnnParamCount("wide")).toBe(wide);
    const net = buildRefCnn("small");
    expect(net.paramCount).toBe(small);
    expect(net.vars.map((v) => v.shape)).toEqual(refCnnLayers("small").map((c) => [3, 3, c.inChannels, c.outChannels]));
    net.dispose();
  });

  it("rejects an input of the wrong shape, naming the function", () => {
    const net = buildRefCnn("small");
    const x = tf.zeros<tf.Rank.R4>([1, 14, 14, 1]);
    expect(() => net.forward(x)).toThrow(/RefCnn\.forward: x must have shape \[batch, 28, 28, 1\], got \[1, 14, 14, 1\]/);
    x.dispose();
    net.dispose();
  });

  // tfjs-backend-cpu's Conv2DBackpropFilter is very slow (about 9 s for the eight filter gradients of one step at
  // batch 1 here), so one full step checks lossAndStep, and the repeated steps train only the two one-channel convs
  // (conv1, conv8), whose filter gradients are cheap, to keep the test well under 20 s. The learning rate is 1e-4:
  // Adam's first steps move every weight by about lr, and at the bench's 1e-3 this un-normalised net can overshoot
  // (PyTorch's Adam does the same: 1.45 -> 4.02 on its first step for one seed), which would say nothing about the
  // gradients.
  it("trains on the cpu backend: a full Adam step, then repeated steps that lower the loss, and no leaks", async () => {
    const previous = tf.getBackend();
    expect(await tf.setBackend("cpu")).toBe(true);
    try {
      const start = tf.memory().numTensors;
      const net = buildRefCnn("small");
      const x = image(1, 1);
      const target = image(1, 2);
      const lossNow = async () => {
        const l = net.loss(x, target);
        const v = (await l.data())[0] as number;
        l.dispose();
        return v;
      };

      // One full step over every weight: returns the loss before the step, which the step lowers.
      const full = tf.train.adam(1e-4);
      const first = net.lossAndStep(x, target, full);
      const before = (await first.data())[0] as number;
      first.dispose();
      expect(Number.isFinite(before)).toBe(true);
      expect(await lossNow()).toBeLessThan(before);
      full.dispose();

      // Repeated steps on the same batch: the loss goes down, and the tensor count stays put after Adam's first step.
      const opt = tf.train.adam(1e-4);
      const some = [net.vars[0], net.vars[7]] as tf.Variable[];
      const losses: number[] = [];
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const loss = opt.minimize(() => net.loss(x, target), true, some) as tf.Scalar;
        losses.push((await loss.data())[0] as number);
        loss.dispose();
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0] as number);
      opt.dispose();

      net.dispose();
      x.dispose();
      target.dispose();
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      await tf.setBackend(previous);
    }
  });
});
