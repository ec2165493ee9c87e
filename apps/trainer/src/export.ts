// dale-export: turns a training checkpoint into a small one for sampling and sharing: the weights and their EMA in
// F16 (or F32), the trainer's config and the process, without the optimizer state. dale-sample reads it as is.
import { existsSync, lstatSync } from "node:fs";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { initBackend } from "@dale/backend";
import { fail, int, num, oneOf, userArgv, userPath } from "@dale/cli-kit";
import { checkSampler, checkSamplerChoice, SAMPLER_NAMES, samplerNfe, stepsWithinBudget, type SamplerName } from "@dale/samplers";
import { saveCheckpoint } from "@dale/models/node";
import { Command, Option } from "commander";
import { acquireRunLock, checkGuide, openCheckpoint, readTrainerManifest } from "@dale/training";
import { addSolverFlags, solverSettings, type SolverFlags } from "./solver-flags";

/** Where an export keeps the checkpoint that its recommended autoguidance uses. */
const GUIDE_FOLDER = "guide";

async function main(): Promise<void> {
  const program = new Command("dale-export")
    .description("Writes a sampling checkpoint (model and EMA weights, config, process; no optimizer state) from a dale-train checkpoint.")
    .requiredOption("--checkpoint <dir>", "the dale-train checkpoint folder, or the run's --out folder")
    .requiredOption("--out <dir>", "the new checkpoint folder (must not hold a checkpoint yet)")
    .addOption(new Option("--dtype <dtype>", "storage of the weights").choices(["F16", "F32"]).default("F16"))
    .option("--model-module <path>", "the ES module of a function model; required for such a checkpoint, whose stored path is never imported")
    .option("--sampler <name>", `record a recommended sampler, which dale-sample and fromPretrained use when none is named: ${SAMPLER_NAMES.join(", ")}`, oneOf("--sampler", SAMPLER_NAMES))
    .option("--steps <n>", "the recommended sampler's steps", int("--steps", 1, 1_000_000))
    .option("--nfe <n>", "or its budget of network evaluations per image: the most steps that fit", int("--nfe", 1, 10_000_000))
    .option("--guide <dir>", "recommend autoguidance by this weaker checkpoint of the same process (solvers only): exported into <out>/guide")
    .option("--guidance <w>", "the autoguidance weight (default 2)", num("--guidance", (v) => v >= 0, "a number >= 0"));
  addSolverFlags(program);
  program.parse(userArgv());
  const o = program.opts<{ checkpoint: string; out: string; dtype: "F16" | "F32"; modelModule?: string; sampler?: SamplerName; steps?: number; nfe?: number; guide?: string; guidance?: number } & SolverFlags>();
  const out = userPath(o.out);
  const { dir, extra: stored, sde } = readTrainerManifest(userPath(o.checkpoint));
  // The recommended sampler: checked against the process and the catalogue before anything is written.
  const settings = { sChurn: o.sChurn, sTmin: o.sTmin, sTmax: o.sTmax, sNoise: o.sNoise, eta: o.eta };
  const anySetting = o.steps !== undefined || o.nfe !== undefined || Object.values(settings).some((v) => v !== undefined);
  if (o.sampler === undefined && (anySetting || o.guide !== undefined || o.guidance !== undefined)) {
    throw new Error("--steps, --nfe, --guide and the solver settings describe the recommended sampler; add --sampler.");
  }
  if (o.guidance !== undefined && o.guide === undefined) throw new Error("--guidance is the weight of autoguidance; add --guide <dir>.");
  let extra = stored;
  if (o.sampler !== undefined) {
    checkSampler(o.sampler, sde);
    if (o.steps !== undefined && o.nfe !== undefined) throw new Error("give --steps or --nfe, not both.");
    if (o.steps === undefined && o.nfe === undefined) throw new Error("--sampler needs --steps or --nfe: the number the checkpoint recommends.");
    // A guided evaluation runs two networks, and --nfe counts both.
    const steps = o.steps ?? stepsWithinBudget(o.sampler, o.nfe as number, { networks: o.guide !== undefined ? 2 : 1, caller: "dale-export --nfe" });
    const guidance = o.guide !== undefined ? { checkpoint: GUIDE_FOLDER, weight: o.guidance ?? 2 } : undefined;
    const sampling = checkSamplerChoice({ sampler: o.sampler, schedule: { steps, ...solverSettings(o, o.sampler) }, ...(guidance ? { guidance } : {}) }, "dale-export --sampler");
    extra = { ...stored, sampling };
  }
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
      if (o.guide !== undefined) {
        // The guide travels inside the export, so that the checkpoint loads in one call (dale-sample, fromPretrained).
        const guide = await openCheckpoint(userPath(o.guide));
        try {
          checkGuide(ckpt, guide);
          const { sampling: _none, ...guideExtra } = guide.extra;
          await saveCheckpoint(join(out, GUIDE_FOLDER), { model: guide.model, ...(guide.ema ? { ema: guide.ema } : {}), step: guide.step, extra: guideExtra }, { dtype: o.dtype });
          console.error(`[export] guide ${guide.dir} (step ${guide.step}) -> ${join(out, GUIDE_FOLDER)}`);
        } finally {
          guide.dispose();
        }
      }
    } finally {
      ckpt.dispose();
    }
    const rec = extra.sampling;
    console.error(
      `[export] ${dir} (step ${ckpt.step}) -> ${out} (${o.dtype}${ckpt.ema ? ", with EMA" : ""}, no optimizer state)` +
        (rec
          ? `; recommended sampler ${rec.sampler} ${JSON.stringify(rec.schedule)} (NFE ${(rec.guidance ? 2 : 1) * samplerNfe(rec.sampler, rec.schedule)}` +
            `${rec.guidance ? `, autoguided by ${rec.guidance.checkpoint}/ with w ${rec.guidance.weight}` : ""})`
          : ""),
    );
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
