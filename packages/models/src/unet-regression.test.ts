import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { UNetConfig } from "./types";
import { createUNet, unetPresets, type CreateUNetOptions } from "./unet";

// Values recorded from the U-Net before its blocks moved into src/unet/ (see the fixture's "about"). Checkpoints
// store variables by these names and load them in this order, so a change here breaks every committed checkpoint.

type VariableRecord = [name: string, shape: number[], sum: number, sumOfSquares: number];
interface CaseRecord {
  variables: VariableRecord[];
  output: { shape: number[]; sum: number; sumAbs: number; samples: [index: number, value: number][] };
}
interface Fixture { cases: Record<string, CaseRecord>; mnistSmallNames: string[] }

const fixture = JSON.parse(readFileSync(new URL("./unet-regression.fixture.json", import.meta.url), "utf8")) as Fixture;

interface Case { config: UNetConfig; options: CreateUNetOptions; t: number[]; training?: { seed: number } }
const cases: Record<string, Case> = {
  "tiny-noise": { config: unetPresets.tiny, options: { seed: 7, zeroInit: false }, t: [0.05, 0.9] },
  // Attention on the way down and up, dropout in training mode (its per-block mask seeds), log input.
  "attention-dropout-log": {
    config: { ...unetPresets.tiny, attnResolutions: [14], dropout: 0.2, input: "log" },
    options: { seed: 11, zeroInit: false },
    t: [0.3, 0.6],
    training: { seed: 5 },
  },
  // EDM preconditioning: apply(y, sigma).
  denoiser: {
    config: { ...unetPresets.tiny, output: "denoiser", precondition: { sigmaData: 0.6, mean: -0.4 } },
    options: { seed: 3, zeroInit: false },
    t: [0.3, 2.5],
  },
  // The default zero-initialised layers still use up their seed streams.
  "zero-init": { config: unetPresets.tiny, options: { seed: 0 }, t: [0.5, 0.5] },
};

/** The fixture's input: x[i] = 1 + 0.5 sin(0.37 i + 0.1 (i mod 7)), float32. */
function fixedInput(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => 1 + 0.5 * Math.sin(0.37 * i + 0.1 * (i % 7))), shape, "float32");
}

function sums(values: ArrayLike<number>): { sum: number; sumOfSquares: number; sumAbs: number } {
  let sum = 0;
  let sumOfSquares = 0;
  let sumAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    sum += v;
    sumOfSquares += v * v;
    sumAbs += Math.abs(v);
  }
  return { sum, sumOfSquares, sumAbs };
}

describe("createUNet against values recorded before the blocks were split out", () => {
  it.each(Object.keys(cases))("%s: same variable names, order, shapes and seeded draws", (name) => {
    const c = cases[name] as Case;
    const recorded = (fixture.cases[name] as CaseRecord).variables;
    const model = createUNet(c.config, c.options);
    const named = Object.entries(model.namedVariables());
    expect(named.map(([n]) => n)).toEqual(recorded.map(([n]) => n));
    expect(model.variables).toEqual(named.map(([, v]) => v));
    named.forEach(([n, v], i) => {
      const [, shape, sum, sumOfSquares] = recorded[i] as VariableRecord;
      const s = sums(v.dataSync());
      expect({ n, shape: v.shape, sum: s.sum, sumOfSquares: s.sumOfSquares }).toEqual({ n, shape, sum, sumOfSquares });
    });
    model.dispose();
  });

  it.each(Object.keys(cases))("%s: same output on a fixed input", (name) => {
    const c = cases[name] as Case;
    const recorded = (fixture.cases[name] as CaseRecord).output;
    const model = createUNet(c.config, c.options);
    const [h, w] = model.config.imageSize;
    const x = fixedInput([2, h, w, model.config.channels]);
    const t = tf.tensor1d(c.t);
    const y = model.apply(x, t, c.training ? { training: true, seed: c.training.seed } : {});
    const values = y.dataSync();
    expect(y.shape).toEqual(recorded.shape);
    // Float32 rounding only (the same ops in the same order give identical values on one backend).
    const tol = (v: number) => 1e-5 * (1 + Math.abs(v));
    for (const [i, v] of recorded.samples) expect(Math.abs((values[i] as number) - v)).toBeLessThanOrEqual(tol(v));
    const s = sums(values);
    expect(Math.abs(s.sum - recorded.sum)).toBeLessThanOrEqual(tol(recorded.sumAbs));
    expect(Math.abs(s.sumAbs - recorded.sumAbs)).toBeLessThanOrEqual(tol(recorded.sumAbs));
    tf.dispose([x, t, y]);
    model.dispose();
  });

  it("names the variables of mnistSmall (the committed MNIST checkpoints) as before, in the same order", () => {
    const model = createUNet(unetPresets.mnistSmall);
    expect(Object.keys(model.namedVariables())).toEqual(fixture.mnistSmallNames);
    model.dispose();
  });
});
