import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { emaDecayAt, modelVariables, type Ema } from "@dale/models";
import { openCheckpoint } from "./open-checkpoint";
import { learningRateAt } from "./config";
import { NonFiniteLossError, readLossCsv, train, type TrainStep } from "./train";

const tmp = mkdtempSync(join(tmpdir(), "dale-training-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tiny = { dataset: "builtin-mnist", process: "gbm", model: "tiny", trainImages: 64, batch: 8, sampleCount: 0, checkpointEvery: 2 } as const;

describe("train", () => {
  it("reports every step through its hooks, prints nothing, checkpoints, and leaves no tensors behind", async () => {
    const out = join(tmp, "run");
    const steps: TrainStep[] = [];
    const checkpoints: number[] = [];
    const logs: string[] = [];
    const before = tf.memory().numTensors;
    const result = await train(
      { ...tiny, out, steps: 3 },
      { onStep: (s) => steps.push(s), onCheckpoint: ({ step }) => checkpoints.push(step), onLog: (m, level) => logs.push(`${level}: ${m}`) },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(steps.every((s) => Number.isFinite(s.loss) && s.stepsPerSecond > 0 && s.steps === 3)).toBe(true);
    expect(checkpoints).toEqual([2, 3]);
    expect(result).toMatchObject({ step: 3, start: 0, out });
    expect(result.config).toMatchObject({ dataset: "builtin-mnist", model: "tiny", lr: 2e-4, seed: 0, recipe: "reference" });
    expect(readLossCsv(join(out, "loss.csv")).map((r) => r.step)).toEqual([1, 2, 3]);
    expect(logs.some((l) => /^info: 41,609 parameters; steps 0 -> 3/.test(l))).toBe(true);
    expect(existsSync(join(out, "train.lock"))).toBe(false);
  });

  it("resumes with the stored settings, and refuses a given identity field that differs, naming it", async () => {
    const out = join(tmp, "run");
    const steps: number[] = [];
    const trainSecondsOf = () => (JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as { extra: { trainSeconds?: number } }).extra.trainSeconds;
    const before = trainSecondsOf() as number;
    expect(before).toBeGreaterThan(0);
    const result = await train({ out, resume: true, steps: 5, sampleCount: 0 }, { onStep: ({ step }) => steps.push(step) });
    expect(steps).toEqual([4, 5]);
    // The training time behind the checkpoint adds up over the resume: the stored figure plus this call's loop.
    expect(result.trainSeconds).toBe(trainSecondsOf());
    expect(result.trainSeconds as number).toBeGreaterThan(before);
    expect(result.trainSeconds as number).toBeLessThanOrEqual(before + result.seconds);
    expect(result.config.trainImages).toBe(64);
    await expect(train({ out, resume: true, steps: 6, seed: 4 })).rejects.toThrow(/^seed 4 differs from the checkpoint's 0; a resumed run keeps its settings\.$/);
    await expect(train({ out, resume: true, steps: 6, lr: 1 }, { optionName: (k) => `--${k}` })).rejects.toThrow(/^--lr 1 differs/);
    await expect(train({ out, steps: 6 })).rejects.toThrow(/already holds a checkpoint; pass resume to continue it/);
  });

  it("decays the learning rate on a schedule that may be set on resume and is stored", async () => {
    expect(learningRateAt(1e-3, null, 10)).toBe(1e-3);
    const decay = { start: 100, end: 300, final: 0.1 };
    expect(learningRateAt(1e-3, decay, 100)).toBe(1e-3);
    expect(learningRateAt(1e-3, decay, 200)).toBeCloseTo(0.55e-3, 15);
    expect(learningRateAt(1e-3, decay, 300)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt(1e-3, decay, 10_000)).toBeCloseTo(1e-4, 15);
    // A decay to 0 from step 2 on: step 2 and after change nothing, so the weights after step 3 equal those after step 1.
    const out = join(tmp, "decay");
    await train({ ...tiny, out, steps: 1, checkpointEvery: 1 });
    const first = await openCheckpoint(join(out, "checkpoint"));
    const w1 = first.model.variables.map((v) => Array.from(v.dataSync()));
    first.dispose();
    const result = await train({ out, resume: true, steps: 3, sampleCount: 0, lrDecay: { start: 1, end: 2, final: 0 } });
    expect(result.config.lrDecay).toEqual({ start: 1, end: 2, final: 0 });
    const last = await openCheckpoint(join(out, "checkpoint"));
    expect(last.model.variables.map((v) => Array.from(v.dataSync()))).toEqual(w1);
    last.dispose();
    // Inherited on a later resume; refused when its end is not after its start.
    expect((await train({ out, resume: true, steps: 4, sampleCount: 0 })).config.lrDecay).toEqual({ start: 1, end: 2, final: 0 });
    await expect(train({ out, resume: true, steps: 5, lrDecay: { start: 3, end: 3, final: 0 } })).rejects.toThrow(/its end step must be after its start step/);
  });

  it("warms the EMA up by update number, also across a resume, and keeps the setting", async () => {
    const out = join(tmp, "ema-warmup");
    // On by default for a fresh run.
    expect((await train({ ...tiny, out, steps: 1, checkpointEvery: 1 })).config.emaWarmup).toBe(true);
    const one = await openCheckpoint(join(out, "checkpoint"));
    const read = (r: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(r).map(([k, t]) => [k, Array.from(t.dataSync())]));
    const ema1 = read((one.ema as Ema).namedTensors());
    one.dispose();
    const result = await train({ out, resume: true, steps: 2, sampleCount: 0 });
    expect(result.config.emaWarmup).toBe(true);
    const two = await openCheckpoint(join(out, "checkpoint"));
    const ema2 = read((two.ema as Ema).namedTensors());
    const raw2 = read(modelVariables(two.model));
    two.dispose();
    // Step 2 is update number 1: decay (1 + 1) / (10 + 1), not 0.999 (which would leave the EMA next to ema1).
    const d = emaDecayAt(0.999, true, 1);
    expect(d).toBeCloseTo(2 / 11, 15);
    let worst = 0;
    let moved = 0;
    for (const [name, values] of Object.entries(ema2)) {
      values.forEach((v, i) => {
        const want = d * (ema1[name]?.[i] as number) + (1 - d) * (raw2[name]?.[i] as number);
        worst = Math.max(worst, Math.abs(v - want));
        moved = Math.max(moved, Math.abs(v - (ema1[name]?.[i] as number)));
      });
    }
    expect(worst).toBeLessThan(1e-6);
    expect(moved).toBeGreaterThan(1e-5);
    await expect(train({ out, resume: true, steps: 3, emaWarmup: false })).rejects.toThrow(/^emaWarmup false differs from the checkpoint's true/);
  });

  it("validates its options with one schema, naming the field", async () => {
    await expect(train({ out: join(tmp, "bad"), ...tiny, batch: 0 })).rejects.toThrow(/train: invalid options:\n {2}batch: Number must be greater than 0/);
    await expect(train({ out: join(tmp, "bad"), ...tiny, bogus: 1 } as never)).rejects.toThrow(/Unrecognized key\(s\) in object: 'bogus'/);
    await expect(train({ out: join(tmp, "bad"), ...tiny, process: "vp", weighting: "variance" })).rejects.toThrow(/apply to --process gbm/);
  });

  it("stops on a non-finite loss with NonFiniteLossError, naming the step and the last checkpoint", async () => {
    const out = join(tmp, "nan");
    // A learning rate this large drives the weights to Infinity within a few steps.
    const error = await train({ ...tiny, out, steps: 200, lr: 1e30, checkpointEvery: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect(String((error as Error).message)).toMatch(/the loss is not finite \(\w+\) at step (\d+); stopping without saving this state\. The last good checkpoint is .* at step \d+\./);
  });

  it("opens what it trained and samples it", async () => {
    const ckpt = await openCheckpoint(join(tmp, "run"));
    const before = tf.memory().numTensors;
    const pixels = await ckpt.sample({ sampler: "dale-langevin", schedule: { steps: 3 }, n: 2, batch: 2, seed: 0 });
    expect(pixels).toHaveLength(2 * 28 * 28);
    expect(pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    ckpt.dispose();
    expect(JSON.parse(readFileSync(join(tmp, "run", "checkpoint", "checkpoint.json"), "utf8")).step).toBe(5);
  });
});
