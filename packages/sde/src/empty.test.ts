// A batch of zero samples is a named error, not a count or sum read from uninitialised wasm memory (issue 15).
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { fitPrior, gbm } from "./gbm";
import { assertAllFinite, assertNonEmpty, assertPositive } from "./util";

describe("empty tensors", () => {
  it("are refused by the positivity and finiteness checks, naming the function, the argument and the shape", () => {
    const e = tf.zeros([0, 4]);
    expect(() => assertNonEmpty(e, "f", "x")).toThrow(/^f: x is empty \(shape \[0,4\]\); expected at least one value\.$/);
    expect(() => assertPositive(e, "f", "x")).toThrow(/^f: x is empty/);
    expect(() => assertAllFinite(e, "f", "x")).toThrow(/^f: x is empty/);
    expect(() => gbm().marginal(e, 0.5)).toThrow(/x0 is empty \(shape \[0,4\]\)/);
    expect(() => fitPrior(gbm(), e)).toThrow(/is empty \(shape \[0,4\]\)/);
    e.dispose();
  });
});
