// fromPretrained of @dale/models samples what openCheckpoint does: same weights (EMA), same score and denoiser, same
// seeds per batch and the same pixel transform, so the same pixels, on the repository's MNIST checkpoint.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromPretrained } from "@dale/models/node";
import { stepsForNfe } from "@dale/samplers";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { openCheckpoint } from "./open-checkpoint";

const CHECKPOINT = fileURLToPath(new URL("../../../checkpoints/mnist-gbm", import.meta.url));

describe("fromPretrained and openCheckpoint", () => {
  it("give the same pixels for the same sampler, steps and seed", async () => {
    const before = tf.memory().numTensors;
    const opened = await openCheckpoint(CHECKPOINT);
    const pipe = await fromPretrained(CHECKPOINT);
    try {
      for (const sampler of ["heun", "dpmpp-2m-sde"] as const) {
        const steps = stepsForNfe(sampler, 10);
        const expected = await opened.sample({ sampler, schedule: { steps }, n: 4, batch: 100, seed: 0 });
        const images = await pipe.sample({ n: 4, seed: 0, sampler, nfe: 10 });
        expect(images.shape).toEqual([4, 28, 28, 1]);
        expect(Math.min(...expected)).toBe(0); // digits: black background, white strokes
        expect(Math.max(...expected)).toBeGreaterThan(0.9);
        expect(await images.data()).toEqual(expected);
        images.dispose();
      }
      // The default is the checkpoint's recommendation, autoguided by its guide/ folder: the same pixels as
      // openCheckpoint's sample with that guide and weight (what dale-sample runs by default).
      const rec = opened.extra.sampling;
      expect(rec?.guidance).toBeDefined();
      expect(pipe.config.sampler).toMatchObject({ name: rec?.sampler, steps: rec?.schedule.steps, guidance: { checkpoint: rec?.guidance?.checkpoint, weight: rec?.guidance?.weight } });
      const guide = await openCheckpoint(join(CHECKPOINT, rec?.guidance?.checkpoint as string));
      try {
        const schedule = { ...rec?.schedule, steps: 2 } as NonNullable<typeof rec>["schedule"];
        const expected = await opened.sample({ sampler: rec?.sampler as "heun", schedule, n: 3, batch: 100, seed: 1, guide: { checkpoint: guide, weight: rec?.guidance?.weight as number } });
        const images = await pipe.sample({ n: 3, seed: 1, steps: 2 });
        expect(await images.data()).toEqual(expected);
        images.dispose();
        const unguided = await opened.sample({ sampler: rec?.sampler as "heun", schedule, n: 3, batch: 100, seed: 1 });
        expect(unguided).not.toEqual(expected);
      } finally {
        guide.dispose();
      }
    } finally {
      pipe.dispose();
      opened.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
