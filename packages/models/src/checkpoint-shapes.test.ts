// Shapes before allocation: a checkpoint's stored U-Net config is checked against its tensor headers before a network
// is built from it (issue 15: a config edited to ch 512 used to take 70 s and 4.2 GB before the shape error).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import type { CheckpointManifest } from "./checkpoint";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint-folder";
import { createUNet, unetPresets, unetVariableShapes } from "./unet";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("unetVariableShapes", () => {
  it("lists the weights createUNet makes, by name, shape and order, without allocating", () => {
    for (const preset of ["tiny", "mnistSmall", "cifar10Small"] as const) {
      const before = tf.memory().numTensors;
      const shapes = unetVariableShapes(unetPresets[preset]);
      expect(tf.memory().numTensors).toBe(before);
      const model = createUNet(unetPresets[preset], { seed: 0 });
      const named = model.namedVariables();
      expect(Object.keys(shapes)).toEqual(Object.keys(named));
      for (const [k, v] of Object.entries(named)) expect(shapes[k]).toEqual(v.shape);
      model.dispose();
    }
  });

  it("plans a huge config in milliseconds: nothing is allocated", () => {
    const t0 = performance.now();
    const shapes = unetVariableShapes({ ...unetPresets.mnistSmall, ch: 512 });
    expect(performance.now() - t0).toBeLessThan(500);
    const elements = Object.values(shapes).reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    expect(elements).toBeGreaterThan(2e8); // about a gigabyte of float32 had it been built
  });
});

/** A tiny U-Net's checkpoint whose stored config `edit` changes afterwards (the weights stay as saved). */
async function savedWithConfig(edit: (config: Record<string, unknown>) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dale-shapes-"));
  dirs.push(dir);
  const model = createUNet(unetPresets.tiny, { seed: 1 });
  await saveCheckpoint(dir, { model, step: 3 });
  model.dispose();
  const manifestPath = join(dir, "checkpoint.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as CheckpointManifest;
  edit(manifest.config as unknown as Record<string, unknown>);
  await writeFile(manifestPath, JSON.stringify(manifest));
  return dir;
}

describe("loadCheckpoint, shapes before allocation", () => {
  it("refuses a config edited to ch 512 by its tensor headers, before building the network", async () => {
    const dir = await savedWithConfig((config) => (config.ch = 512));
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    const t0 = performance.now();
    await expect(loadCheckpoint(dir)).rejects.toThrow(/loadCheckpoint: .*model\.safetensors: tensor "[^"]+" has shape \[[\d,]+\], expected \[[\d,]*512[\d,]*\] from the model config/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
  });

  it("names the manifest when its config is not a U-Net config at all", async () => {
    const dir = await savedWithConfig((config) => (config.chMult = "wide"));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/loadCheckpoint: .*checkpoint\.json: its model config is not a valid U-Net config/);
  });
});
