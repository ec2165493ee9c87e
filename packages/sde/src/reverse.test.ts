import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { gbm, geometricSchedule, reverse, reverseLog, vpSDE } from "./index";

describe("ReverseSDE.scalarDiffusion", () => {
  const sde = gbm({ sigma: geometricSchedule(0.01, 2) });
  const score = (x: tf.Tensor) => tf.div(-1, x);

  it("is sigma(t) for reverseLog, equal to every entry of its diffusion", () => {
    const rev = reverseLog(sde, score);
    const y = tf.tensor([[-1], [0], [3]]);
    for (const t of [0.1, 0.5, 1]) {
      expect(rev.scalarDiffusion?.(t)).toBe(sde.sigma.value(t));
      const g = rev.diffusion(y, t);
      expect(Array.from(g.dataSync())).toEqual([0, 1, 2].map(() => Math.fround(sde.sigma.value(t))));
      g.dispose();
    }
    y.dispose();
  });

  it("is 0 for every probability-flow ODE, and absent where the diffusion may depend on x", () => {
    expect(reverseLog(sde, score, { probabilityFlow: true }).scalarDiffusion?.(0.5)).toBe(0);
    expect(reverse(sde, score, { probabilityFlow: true }).scalarDiffusion?.(0.5)).toBe(0);
    expect(reverse(vpSDE(), (x) => tf.neg(x), { probabilityFlow: true }).scalarDiffusion?.(0.5)).toBe(0);
    expect(reverse(sde, score).scalarDiffusion).toBeUndefined();
    expect(reverse(vpSDE(), (x) => tf.neg(x)).scalarDiffusion).toBeUndefined();
  });
});
