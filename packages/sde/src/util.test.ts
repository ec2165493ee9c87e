// The input checks every public function shares: times, positivity and finiteness, enumerated options.
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import {
  assertAllFinite,
  assertAllFiniteAsync,
  assertOneOf,
  assertPositive,
  assertPositiveAsync,
  checkTimes,
  fitPrior,
  gbm,
  priorFromJSON,
  scheduleFromJSON,
  sdeFromJSON,
  timeTensor,
  type PriorJSON,
  type SDEJSON,
  type ScheduleJSON,
} from "./index";

describe("checkTimes", () => {
  it("returns a number as it is and a [batch] tensor's values as numbers", () => {
    expect(checkTimes(0.5, { fn: "f", T: 1 })).toBe(0.5);
    const t = tf.tensor1d([0.25, 1]);
    expect(checkTimes(t, { fn: "f", T: 1, batch: 2 })).toEqual([0.25, 1]);
    t.dispose();
  });

  it("accepts (0, T] by default and [0, T] with min: non-negative, with T at float32 precision", () => {
    expect(() => checkTimes(0, { fn: "myLoss", T: 1 })).toThrow(/^myLoss: t must be in \(0, T = 1\], got 0\.$/);
    expect(checkTimes(0, { fn: "f", T: 1, min: "non-negative" })).toBe(0);
    expect(checkTimes(1, { fn: "f", T: 1 })).toBe(1);
    // Math.fround(0.3) > 0.3: a float32 tensor filled with T = 0.3 still holds valid times.
    const t = tf.fill([2], 0.3);
    expect(() => checkTimes(t, { fn: "f", T: 0.3 })).not.toThrow();
    expect(() => checkTimes(0.3000001, { fn: "f", T: 0.3 })).toThrow(/t must be in \(0, T = 0\.3\], got 0\.3000001\./);
    t.dispose();
  });

  it("names the first bad time of a tensor and its index: below 0, 0, above T, NaN and infinities", () => {
    const bad: [number[], RegExp][] = [
      [[0.5, -0.1], /^mdsmLoss: t must be in \(0, T = 1\], got -0\.1\d* at index 1\.$/],
      [[0.5, 0.2, 0], /^mdsmLoss: t must be in \(0, T = 1\], got 0 at index 2\.$/],
      [[1.5, 0.5], /^mdsmLoss: t must be in \(0, T = 1\], got 1\.5 at index 0\.$/],
      [[0.5, Number.NaN], /^mdsmLoss: t must be in \(0, T = 1\], got NaN at index 1\.$/],
      [[Infinity], /got Infinity at index 0/],
    ];
    for (const [values, message] of bad) {
      const t = tf.tensor1d(values);
      expect(() => checkTimes(t, { fn: "mdsmLoss", T: 1 })).toThrow(message);
      t.dispose();
    }
    const t = tf.tensor1d([0.5, -0.25]);
    expect(() => checkTimes(t, { fn: "gbm.marginal", T: 2, min: "non-negative" })).toThrow(/^gbm\.marginal: t must be in \[0, T = 2\], got -0\.25 at index 1\.$/);
    t.dispose();
  });

  it("without T checks finiteness only, and checks the tensor's shape and the argument's type", () => {
    const t = tf.tensor1d([5, Number.NaN]);
    expect(() => checkTimes(t, { fn: "f" })).toThrow(/^f: t must be finite, got NaN at index 1\.$/);
    expect(() => checkTimes(Number.NaN, { fn: "f", arg: "time" })).toThrow(/^f: time must be a finite number, got NaN\.$/);
    expect(checkTimes(-3, { fn: "f" })).toBe(-3);
    expect(() => checkTimes(t, { fn: "f", batch: 3 })).toThrow(/^f: a tensor t must be 1-D with one time per sample, shape \[3\], got \[2\]\.$/);
    const t2 = tf.zeros([2, 1]);
    expect(() => checkTimes(t2, { fn: "f" })).toThrow(/a tensor t must be 1-D with one time per sample, got \[2, 1\]/);
    expect(() => checkTimes("0.5" as unknown as number, { fn: "f" })).toThrow(/^f: t must be a number or a \[batch\] tensor of per-sample times, got "0\.5"\.$/);
    tf.dispose([t, t2]);
  });

  it("timeTensor rejects NaN and infinities inside a time tensor, not only in a number", () => {
    const x = tf.ones([3, 2]);
    const t = tf.tensor1d([0.1, Number.NaN, 0.3]);
    const before = tf.memory().numTensors;
    expect(() => timeTensor(t, x, (s) => s, "myFn")).toThrow(/^myFn: t must be finite, got NaN at index 1\.$/);
    expect(() => timeTensor(Infinity, x, (s) => s, "myFn")).toThrow(/^myFn: t must be a finite number, got Infinity\.$/);
    expect(() => timeTensor([0.1, 0.2], x, (s) => s, "myFn")).toThrow(/^myFn: t must hold one time per sample of x \(3\), got 2\.$/);
    expect(tf.memory().numTensors).toBe(before);
    const ok = timeTensor([0.1, 0.2, 0.3], x, (s) => 2 * s, "myFn");
    expect(Array.from(ok.dataSync())).toEqual([0.2, 0.4, 0.6].map(Math.fround));
    tf.dispose([x, t, ok]);
  });
});

describe("assertPositive and assertAllFinite", () => {
  it("reject +Infinity, -Infinity and NaN as well as values <= 0, counting them and showing one", () => {
    for (const [bad, shown] of [
      [Infinity, "Infinity"],
      [-Infinity, "-Infinity"],
      [Number.NaN, "NaN"],
      [0, "0"],
    ] as const) {
      const x = tf.tensor([[1, 2], [3, bad]]);
      expect(() => assertPositive(x, "myFn", "x0")).toThrow(
        new RegExp(`^myFn: x0 must be strictly positive and finite, .*; 1 of 4 values are not \\(x0\\[1, 1\\] = ${shown}\\)\\. Shift`),
      );
      x.dispose();
    }
    const x = tf.tensor([Infinity, 1, Number.NaN]);
    expect(() => assertPositive(x, "myFn", "xT", "Draw it from the prior.")).toThrow(/2 of 3 values are not \(xT\[0\] = Infinity\)\. Draw it from the prior\.$/);
    expect(() => assertAllFinite(x, "myFn", "xT")).toThrow(/^myFn: xT must be finite; 2 of 3 values are NaN or infinite \(xT\[0\] = Infinity\)\.$/);
    x.dispose();
  });

  it("pass finite positive data (and finite data of any sign) and leak nothing either way", () => {
    const good = tf.tensor([[1e-30, 3e38]]);
    const signed = tf.tensor([[-5, 0, 5]]);
    const bad = tf.tensor([[1, Infinity]]);
    const before = tf.memory().numTensors;
    expect(() => assertPositive(good, "f", "x")).not.toThrow();
    expect(() => assertAllFinite(signed, "f", "x")).not.toThrow();
    expect(() => assertPositive(bad, "f", "x")).toThrow();
    expect(() => assertAllFinite(bad, "f", "x")).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([good, signed, bad]);
  });

  it("have async twins (the samplers' start check) that give the same messages and leak nothing", async () => {
    const cases = [tf.tensor([[1, 2], [3, Number.NaN]]), tf.tensor([Infinity, 1, -2]), tf.tensor([[0.5, 1e-30]]), tf.tensor([-5, 0, 5])];
    const before = tf.memory().numTensors;
    for (const x of cases) {
      const message = (f: () => void) => {
        try {
          f();
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      };
      const asyncMessage = (p: Promise<void>) => p.then(() => null, (e: Error) => e.message);
      expect(await asyncMessage(assertPositiveAsync(x, "f", "xT", "Hint."))).toBe(message(() => assertPositive(x, "f", "xT", "Hint.")));
      expect(await asyncMessage(assertAllFiniteAsync(x, "f", "xT"))).toBe(message(() => assertAllFinite(x, "f", "xT")));
    }
    // The cases cover passing and failing of both checks.
    expect(await assertPositiveAsync(cases[2] as tf.Tensor, "f", "x").then(() => "ok")).toBe("ok");
    await expect(assertPositiveAsync(cases[3] as tf.Tensor, "f", "x")).rejects.toThrow(/2 of 3 values are not \(x\[0\] = -5\)/);
    expect(await assertAllFiniteAsync(cases[3] as tf.Tensor, "f", "x").then(() => "ok")).toBe("ok");
    await expect(assertAllFiniteAsync(cases[0] as tf.Tensor, "f", "x")).rejects.toThrow(/1 of 4 values are NaN or infinite \(x\[1, 1\] = NaN\)/);
    const empty = tf.zeros([0]);
    await expect(assertPositiveAsync(empty, "f", "x")).rejects.toThrow(/^f: x is empty/);
    empty.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(cases);
  });

  it("fitPrior rejects +Infinity, which used to pass and make the prior NaN", () => {
    const x0 = tf.tensor([[1], [Infinity], [2]]);
    const before = tf.memory().numTensors;
    expect(() => fitPrior(gbm(), x0)).toThrow(/^fitPrior: x0 must be strictly positive and finite.*1 of 3 values are not \(x0\[1, 0\] = Infinity\)/);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });
});

describe("enumerated options reject unknown values, naming the option and the choices", () => {
  it("assertOneOf", () => {
    expect(() => assertOneOf("sum", ["mean", "none"], "myLoss", "reduction")).toThrow(
      /^myLoss: reduction must be one of "mean", "none", got "sum"\.$/,
    );
    expect(() => assertOneOf(undefined, ["a"], "f", "kind")).toThrow(/^f: kind must be one of "a", got undefined\.$/);
    expect(() => assertOneOf("a", ["a", "b"], "f", "kind")).not.toThrow();
  });

  it("fitPrior's per", () => {
    const x0 = tf.ones([4, 2]);
    // @ts-expect-error not a PriorFit
    expect(() => fitPrior(gbm(), x0, { per: "row" })).toThrow(/^fitPrior: per must be one of "all", "channel", "pixel", got "row"\.$/);
    x0.dispose();
  });

  it("the kinds and families of JSON descriptions", () => {
    const sde = gbm().toJSON();
    expect(() => sdeFromJSON({ ...sde, kind: "cld" } as unknown as SDEJSON)).toThrow(/^sdeFromJSON: kind must be one of "gbm", "vp", "ve", got "cld"\.$/);
    expect(() => scheduleFromJSON({ kind: "cosine" } as unknown as ScheduleJSON)).toThrow(
      /^scheduleFromJSON: kind must be one of "constant", "linear", "geometric", "custom", got "cosine"\.$/,
    );
    const prior: PriorJSON = { family: "lognormal", loc: [0], scale: [1], shape: [1] };
    expect(priorFromJSON(prior).family).toBe("lognormal");
    expect(() => priorFromJSON({ ...prior, family: "gamma" } as unknown as PriorJSON)).toThrow(
      /^priorFromJSON: family must be one of "lognormal", "normal", got "gamma"\.$/,
    );
  });
});
