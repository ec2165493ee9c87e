import * as tf from "@tensorflow/tfjs-core";
import { gbm, vpSDE } from "@dale/sde";
import { describe, expect, it } from "vitest";
import { daleLangevin, eulerMaruyama, runSampler } from "./index";

describe("an empty xT", () => {
  it("is a named error in the reference samplers and the solvers", async () => {
    const score = (x: tf.Tensor) => tf.zerosLike(x);
    const e = tf.ones([0, 4]);
    await expect(daleLangevin(score, e, { sde: gbm(), steps: 3, seed: 0 })).rejects.toThrow(/^daleLangevin: xT is empty \(shape \[0,4\]\)/);
    await expect(eulerMaruyama(score, e, { sde: vpSDE(), steps: 3, seed: 0 })).rejects.toThrow(/^eulerMaruyama: xT is empty/);
    await expect(runSampler("heun", { score, sde: gbm(), xT: e, schedule: { steps: 3 }, seed: 0 })).rejects.toThrow(/xT is empty \(shape \[0,4\]\)/);
    e.dispose();
  });
});
