// dale-export: turns a training checkpoint into a small one for sampling and sharing: the weights and their EMA in
// F16 (or F32), the trainer's config and the process, without the optimizer state. dale-sample reads it as is.
import { existsSync, lstatSync } from "node:fs";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { initBackend } from "@dale/backend";
import { fail, userArgv, userPath } from "@dale/cli-kit";
import { saveCheckpoint } from "@dale/models/node";
import { Command, Option } from "commander";
import { acquireRunLock, openCheckpoint, readTrainerManifest } from "@dale/training";

async function main(): Promise<void> {
  const program = new Command("dale-export")
    .description("Writes a sampling checkpoint (model and EMA weights, config, process; no optimizer state) from a dale-train checkpoint.")
    .requiredOption("--checkpoint <dir>", "the dale-train checkpoint folder, or the run's --out folder")
    .requiredOption("--out <dir>", "the new checkpoint folder (must not hold a checkpoint yet)")
    .addOption(new Option("--dtype <dtype>", "storage of the weights").choices(["F16", "F32"]).default("F16"))
    .option("--model-module <path>", "the ES module of a function model; required for such a checkpoint, whose stored path is never imported");
  program.parse(userArgv());
  const o = program.opts<{ checkpoint: string; out: string; dtype: "F16" | "F32"; modelModule?: string }>();
  const out = userPath(o.out);
  const { dir, extra } = readTrainerManifest(userPath(o.checkpoint));
  // --out gets one writer too: a folder that dale-train writes is refused by its lock, and holding the lock while
  // writing keeps a trainer from starting there meanwhile. A folder with a checkpoint (an export's checkpoint.json, a
  // run's checkpoint link or checkpoints/) is never written over.
  await mkdir(out, { recursive: true });
  const lock = acquireRunLock(out, { argv: process.argv, what: "dale-export", note: (m) => console.error(`[export] note: ${m}`) });
  try {
    const existing = ["checkpoint.json", "checkpoint", "checkpoints"].find((name) => exists(join(out, name)));
    if (existing !== undefined) throw new Error(`--out ${o.out} already holds a checkpoint (${existing}); choose another folder or delete it.`);
    await initBackend();
    const ckpt = await openCheckpoint(dir, o.modelModule !== undefined ? { modelModule: userPath(o.modelModule) } : {});
    try {
      await rm(join(out, "optimizer.safetensors"), { force: true });
      await saveCheckpoint(out, { model: ckpt.model, ...(ckpt.ema ? { ema: ckpt.ema } : {}), step: ckpt.step, extra }, { dtype: o.dtype });
      if (existsSync(join(dir, "loss.csv"))) await copyFile(join(dir, "loss.csv"), join(out, "loss.csv"));
    } finally {
      ckpt.dispose();
    }
    console.error(`[export] ${dir} (step ${ckpt.step}) -> ${out} (${o.dtype}${ckpt.ema ? ", with EMA" : ""}, no optimizer state)`);
  } finally {
    lock.release();
  }
}

/** Whether anything (a file, a folder, a link, even a dangling one) is at `path`. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

main().catch((e: unknown) => fail("export", e));
