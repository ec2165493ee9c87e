import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { renderPng } from "@dale/cli-kit";
import { gbm } from "@dale/sde";
import {
  LOG_THRESHOLD,
  TOY_MIXTURE,
  TOY_SDE,
  formatTable,
  histogram,
  histogramSpec,
  logStats,
  mixtureLogCdf,
  mixtureLogMoments,
  parseCli,
  parseSteps,
  quantileSorted,
  runToy,
  sampleDataLog,
  sampleExactPrior,
  summarizeLog,
  tableRows,
  toyCommand,
} from "./index";

describe("statistics", () => {
  it("computes mean, std (divisor n), type-7 quantiles and P(below) of a known array", () => {
    const logs = [4, 1, 3, 2, 5]; // sorted: 1..5
    const s = summarizeLog(logs, 2.5);
    expect(s.count).toBe(5);
    expect(s.mean).toBeCloseTo(3, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(2), 12); // mean of squared deviations (4+1+0+1+4)/5
    expect(s.q05).toBeCloseTo(1.2, 12); // h = 4 * 0.05 = 0.2
    expect(s.q50).toBeCloseTo(3, 12);
    expect(s.q95).toBeCloseTo(4.8, 12);
    expect(s.pBelow).toBeCloseTo(0.4, 12);
    expect(quantileSorted([10], 0.3)).toBe(10);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it("uses only the finite, positive values of X", () => {
    const x = [Math.E, Math.E ** 3, 0, -1, Number.NaN, Number.POSITIVE_INFINITY];
    const s = logStats(x, LOG_THRESHOLD);
    expect(s.count).toBe(2);
    expect(s.excluded).toBe(4);
    expect(s.mean).toBeCloseTo(2, 6);
    expect(s.std).toBeCloseTo(1, 6);
  });

  it("bins a histogram whose density integrates to the in-range fraction", () => {
    const h = histogram([0.05, 0.15, 0.15, 0.95, -1, 2], 0, 1, 10);
    expect(h.counts).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(h.below).toBe(1);
    expect(h.above).toBe(1);
    expect(h.density.reduce((a, b) => a + b, 0) * 0.1).toBeCloseTo(4 / 6, 12);
  });
});

describe("exact mixture", () => {
  it("has the paper's reference values for the data", () => {
    const m = mixtureLogMoments(TOY_MIXTURE);
    expect(m.mean).toBeCloseTo(0.35, 12);
    expect(m.std).toBeCloseTo(Math.sqrt(0.5 * (0.05 ** 2 + 0.08 ** 2) + 0.25 ** 2), 12);
    expect(mixtureLogCdf(TOY_MIXTURE, 0.35)).toBeCloseTo(0.5004, 4);
  });

  it("draws X_T with the log-moments of p_T (within 4 standard errors)", () => {
    const sde = gbm({ ...TOY_SDE });
    expect(sde.logMean(sde.T)).toBeCloseTo(0, 12);
    expect(sde.logVariance(sde.T)).toBeCloseTo(0.64, 12);
    const n = 20000;
    const before = tf.memory().numTensors;
    const xT = sampleExactPrior(sde, n, 3);
    expect(xT.shape).toEqual([n, 1]);
    expect(xT.dtype).toBe("float32");
    const s = logStats(xT.dataSync(), LOG_THRESHOLD);
    xT.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(s.count).toBe(n);

    const mean = 0.35;
    const variance = 0.5 * (0.0025 + 0.64) + 0.5 * (0.0064 + 0.64) + 0.0625;
    const std = Math.sqrt(variance);
    const exact = mixtureLogMoments(TOY_MIXTURE, { shift: 0, extraVar: 0.64 });
    expect(exact.std).toBeCloseTo(std, 12);
    const seMean = std / Math.sqrt(n);
    const seStd = Math.sqrt((exact.m4 - variance ** 2) / (4 * variance * n)); // delta method for the sample std
    expect(Math.abs(s.mean - mean)).toBeLessThan(4 * seMean);
    expect(Math.abs(s.std - std)).toBeLessThan(4 * seStd);
  });

  it("draws data with the data's log-moments, independently of the prior draws", () => {
    const n = 20000;
    const s = summarizeLog(sampleDataLog(n, 0), LOG_THRESHOLD);
    const exact = mixtureLogMoments(TOY_MIXTURE);
    expect(Math.abs(s.mean - exact.mean)).toBeLessThan((4 * exact.std) / Math.sqrt(n));
    expect(Math.abs(s.pBelow - 0.5004)).toBeLessThan(4 * Math.sqrt(0.25 / n));
  });
});

describe("runToy", () => {
  it("runs every sampler, reports NFE, and disposes every tensor", async () => {
    const before = tf.memory().numTensors;
    const results = await runToy({ samples: 400, steps: [20, 5], seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(results.leakedTensors).toBe(0);
    expect(results.runs.map((r) => [r.sampler, r.steps, r.nfe])).toEqual([
      ["dale-langevin", 20, 20],
      ["sign-agnostic", 20, 20],
      ["probability-flow", 20, 39],
      ["dale-langevin", 5, 5],
      ["sign-agnostic", 5, 5],
      ["probability-flow", 5, 9],
    ]);
    for (const r of results.runs) expect(r.stats.count + r.stats.excluded).toBe(400);
    // Dale-Langevin and the probability flow keep signs.
    for (const r of results.runs.filter((r) => r.sampler !== "sign-agnostic")) expect(r.nonPositive).toBe(0);
    const table = formatTable(tableRows(results));
    const lines = table.split("\n");
    expect(lines).toHaveLength(2 + 1 + 6);
    expect(lines[0]).toMatch(/sampler.*steps.*NFE.*log-mean.*log-std.*q05.*q50.*q95.*P\(logX<0\.35\).*non-pos.*seconds/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // aligned
  });
});

describe("chart", () => {
  it("renders the histogram spec to a PNG", async () => {
    const data = histogram([0.1, 0.2, 0.6, 0.65], -0.5, 1.5, 20);
    const panels = ["dale-langevin", "probability-flow"].flatMap((sampler) =>
      [10, 5].map((steps) => ({ sampler, steps, nfe: steps, nonPositive: 0, histogram: histogram([0.1, 0.5, 0.7], -0.5, 1.5, 20) })),
    );
    const png = await renderPng(histogramSpec(data, panels), 1);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(5000);
  });
});

describe("CLI", () => {
  const parse = (args: string[]) => parseCli(args, "user", toyCommand().exitOverride().configureOutput({ writeErr: () => {} }));

  it("has the documented defaults and --quick", () => {
    expect(parse([])).toEqual({ samples: 20000, steps: [1000, 20, 10, 5], seed: 0, out: "out" });
    expect(parse(["--quick"])).toEqual({ samples: 2000, steps: [100, 10], seed: 0, out: "out" });
    expect(parse(["--quick", "--samples", "500"]).samples).toBe(500);
    expect(parse(["--", "--quick"]).samples).toBe(2000); // as \`pnpm start -- --quick\` passes it
    expect(parse(["--steps", "50, 7", "--seed", "9", "--out", "x"])).toEqual({ samples: 20000, steps: [50, 7], seed: 9, out: "x" });
  });

  it("names the option in its errors", () => {
    expect(() => parse(["--samples", "abc"])).toThrow(/--samples <n>.*integer/);
    expect(() => parse(["--samples", "1"])).toThrow(/--samples <n>.*between 2/);
    expect(() => parse(["--seed", "-1"])).toThrow(/--seed <n>/);
    expect(() => parse(["--steps", "10,,5"])).toThrow(/--steps <list>/);
    expect(() => parse(["--steps", "10,0"])).toThrow(/--steps <list>.*between 1/);
    expect(() => parse(["--bogus"])).toThrow(/unknown option '--bogus'/);
    expect(() => parseSteps("3,3")).toThrow(/distinct/);
  });
});
