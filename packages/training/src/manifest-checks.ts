// checkpoint.json is data that may have been edited: what the trainer wrote into it is cross-checked before a resume
// or a sampling run trusts it (issue 15: a step edited from 3 to 1000 resumed at 1000 from the step-3 weights, a
// missing EMA entry restarted the EMA).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainerExtra } from "./config";
import { BatchOrder } from "./data";

/** The parts of `checkpoint.json` that the cross-checks read. */
export interface ManifestFacts {
  step: unknown;
  files?: { ema?: unknown; optimizer?: unknown } | undefined;
}

/**
 * Throws, naming `checkpoint.json` and the field, unless the manifest's `step` agrees with everything else the trainer
 * recorded: `extra.position` (the next batch's epoch and index, recomputed from the data's size, the batch and the
 * step) and `extra.lossRows`. For a resume (`resume: true`) the folder must also hold the optimizer and EMA state the
 * trainer always saves, and a `loss.csv` with exactly one row per step 1..step; the optimizer's own step count is
 * compared after loading ({@link checkOptimizerStep}).
 */
export function crossCheckManifest(dir: string, manifest: ManifestFacts, extra: TrainerExtra, options: { resume: boolean }): void {
  const where = join(dir, "checkpoint.json");
  const step = manifest.step;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0) throw new Error(`${where}: step must be a non-negative integer, got ${JSON.stringify(step)}.`);
  const pos = extra.position;
  if (pos.step !== step) throw new Error(`${where}: step ${step} disagrees with extra.position.step ${pos.step}; the manifest was edited or is not this checkpoint's.`);
  if (extra.lossRows !== step) throw new Error(`${where}: step ${step} disagrees with extra.lossRows ${extra.lossRows} (one loss row per step).`);
  let order: BatchOrder;
  try {
    order = new BatchOrder(extra.data.count, extra.config.batch, extra.config.seed);
  } catch (e) {
    throw new Error(`${where}: extra.data.count ${extra.data.count} and batch ${extra.config.batch} do not describe a run (${e instanceof Error ? e.message : String(e)}).`);
  }
  const expected = order.position(Math.max(1, step + 1));
  if (pos.stepsPerEpoch !== order.stepsPerEpoch || pos.epoch !== expected.epoch || pos.batchInEpoch !== expected.batchInEpoch) {
    throw new Error(
      `${where}: extra.position ${JSON.stringify(pos)} is not where step ${step} leaves ${extra.data.count} images in batches of ${extra.config.batch} ` +
        `(expected epoch ${expected.epoch}, batchInEpoch ${expected.batchInEpoch}, stepsPerEpoch ${order.stepsPerEpoch}).`,
    );
  }
  if (!options.resume) return;
  if (manifest.files?.optimizer === undefined) throw new Error(`${where}: lists no optimizer state; a run cannot resume exactly without it.`);
  if (manifest.files.ema === undefined) throw new Error(`${where}: lists no EMA weights, which every dale-train checkpoint holds; resuming would restart the EMA.`);
  const csv = join(dir, "loss.csv");
  if (!existsSync(csv)) throw new Error(`${csv} is missing: a checkpoint holds the loss of every step up to its own.`);
  const rows = readFileSync(csv, "utf8").split("\n").slice(1).filter((l) => l.trim() !== "");
  if (rows.length !== step) throw new Error(`${csv} has ${rows.length} rows, but checkpoint.json says step ${step} (one row per step).`);
  rows.forEach((row, i) => {
    const [s, loss] = row.split(",");
    if (Number(s) !== i + 1 || loss === undefined || !Number.isFinite(Number(loss))) {
      throw new Error(`${csv}: row ${i + 1} is ${JSON.stringify(row)}, expected "${i + 1},<finite loss>".`);
    }
  });
}

/**
 * Throws unless the loaded optimizer has taken exactly `step` steps: the count is stored in `optimizer.safetensors`,
 * which the manifest's sha256 covers, so a `step` edited in the JSON alone is caught here.
 */
export function checkOptimizerStep(dir: string, step: number, iterations: number): void {
  if (iterations !== step) {
    throw new Error(`${join(dir, "checkpoint.json")}: step ${step} disagrees with the optimizer state, which has taken ${iterations} steps; the manifest was edited.`);
  }
}
