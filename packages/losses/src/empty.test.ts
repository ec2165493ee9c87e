import * as tf from "@tensorflow/tfjs-core";
import { gbm, vpSDE } from "@dale/sde";
import { describe, expect, it } from "vitest";
import { dsmLoss, mdsmLoss } from "./index";

describe("empty batches", () => {
  it("are named errors in every loss (dsm used to return the mean of nothing)", () => {
    const e = tf.zeros([0, 4]);
    const net = (x: tf.Tensor) => tf.zerosLike(x);
    expect(() => mdsmLoss(net, e, { sde: gbm(), seed: 0 })).toThrow(/^mdsmLoss: x0 is empty \(shape \[0,4\]\)/);
    expect(() => dsmLoss(net, e, { sde: vpSDE(), seed: 0 })).toThrow(/^dsmLoss: x0 is empty \(shape \[0,4\]\)/);
    e.dispose();
  });
});
