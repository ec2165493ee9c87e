// dale-sample: draws images from a dale-train checkpoint with any matching sampler; writes a PNG grid and a .npy.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { initBackend } from "@dale/backend";
import { loadCheckpoint, type ScoreModel } from "@dale/models";
import { referencePresets, type ReferenceDataset } from "@dale/samplers";
import { sdeFromJSON, type SDEJSON } from "@dale/sde";
import { Command } from "commander";
import { fail, int, num, oneOf, userArgv, userPath } from "./cli-util";
import { extraSchema, formatZodError } from "./config";
import { gridPng } from "./grid";
import { buildModel, samplerScore } from "./model";
import { encodeNpy } from "@dale/data";
import { checkSampler, defaultSampler, sampleImages, SAMPLERS, type SamplerName, type Schedule } from "./sampling";

const PRESETS = ["mnist", "fashion-mnist", "kmnist", "cifar10"] as const satisfies readonly ReferenceDataset[];

interface Options {
  checkpoint: string;
  sampler?: SamplerName;
  steps?: number;
  delta?: number;
  repeats?: number;
  anneal?: number;
  denoiseSteps?: number;
  preset?: ReferenceDataset;
  n: number;
  batch: number;
  seed: number;
  out: string;
  outNpy?: string;
  ema: boolean;
  modelModule?: string;
}

function command(): Command {
  return new Command("dale-sample")
    .description("Samples images from a dale-train checkpoint; writes a PNG grid and optionally a NumPy .npy of [N, H, W, C] float32 in [0, 1].")
    .requiredOption("--checkpoint <dir>", "the checkpoint folder (<out>/checkpoint), or the run's --out folder")
    .option("--sampler <name>", `${SAMPLERS.join(", ")} (default: dale-langevin for gbm, euler-maruyama for vp/ve)`, oneOf("--sampler", SAMPLERS))
    .option("--steps <n>", "number of time levels (default 1000 with --preset, else 100)", int("--steps", 1, 1_000_000))
    .option("--delta <d>", "step size (GBM samplers; default T / steps)", num("--delta", (v) => v > 0, "a positive number"))
    .option("--repeats <L>", "updates per level (GBM samplers)", int("--repeats", 1, 1000))
    .option("--anneal <a>", "noise factor applied after every level, in (0, 1] (GBM samplers)", num("--anneal", (v) => v > 0 && v <= 1, "in (0, 1]"))
    .option("--denoise-steps <K>", "noise-free updates at t = 0 after the loop (GBM samplers)", int("--denoise-steps", 0, 100000))
    .option("--preset <dataset>", `the reference schedule of ${PRESETS.join(", ")} (steps, delta, L, anneal, denoise steps)`, oneOf("--preset", PRESETS))
    .option("--n <count>", "number of images", int("--n", 1, 1_000_000), 100)
    .option("--batch <n>", "images per sampler call", int("--batch", 1, 100000), 100)
    .option("--seed <n>", "seed of the prior draws and the sampler noise", int("--seed", 0, 2 ** 31 - 1), 0)
    .option("--out <file>", "PNG grid", "grid.png")
    .option("--out-npy <file>", "also write the images as a .npy file")
    .option("--ema", "use the EMA weights (default, when the checkpoint has them)", true)
    .option("--no-ema", "use the raw trained weights")
    .option("--model-module <path>", "the ES module that built a function model (its createModel(config)); default: the path stored in the checkpoint");
}

async function main(): Promise<void> {
  const program = command();
  program.parse(userArgv());
  const o = program.opts<Options>();

  // 1. The checkpoint's manifest and the trainer's extra JSON, validated.
  let dir = userPath(o.checkpoint);
  if (!existsSync(join(dir, "checkpoint.json")) && existsSync(join(dir, "checkpoint", "checkpoint.json"))) dir = join(dir, "checkpoint");
  const manifestPath = join(dir, "checkpoint.json");
  if (!existsSync(manifestPath)) throw new Error(`--checkpoint ${o.checkpoint}: no checkpoint.json there (nor in its checkpoint/ folder).`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { extra?: unknown; config?: { kind?: string } };
  const parsed = extraSchema.safeParse(manifest.extra);
  if (!parsed.success) throw new Error(formatZodError(parsed.error, `${manifestPath} was not written by dale-train`));
  const extra = parsed.data;
  const sde = sdeFromJSON(extra.sde as unknown as SDEJSON);

  // 2. The sampler and its schedule; reject a sampler of the other family before loading anything heavy.
  const sampler = o.sampler ?? defaultSampler(sde);
  checkSampler(sampler, sde);
  let schedule: Schedule = { steps: o.steps ?? 100 };
  if (o.preset) {
    if (sampler !== "dale-langevin" && sampler !== "sign-agnostic") throw new Error(`--preset gives schedules for dale-langevin and sign-agnostic only, not ${sampler}.`);
    const ref = referencePresets[o.preset][sampler === "dale-langevin" ? "daleLangevin" : "signAgnostic"];
    schedule = { ...ref, ...(o.steps !== undefined ? { steps: o.steps } : {}) };
  }
  if (o.delta !== undefined) schedule.delta = o.delta;
  if (o.repeats !== undefined) schedule.repeats = o.repeats;
  if (o.anneal !== undefined) schedule.anneal = o.anneal;
  if (o.denoiseSteps !== undefined) schedule.denoiseSteps = o.denoiseSteps;
  const gbmOnly = o.delta !== undefined || o.repeats !== undefined || o.anneal !== undefined || o.denoiseSteps !== undefined;
  if (gbmOnly && (sampler === "euler-maruyama" || sampler === "predictor-corrector" || sampler === "probability-flow")) {
    throw new Error(`--delta, --repeats, --anneal and --denoise-steps apply to dale-langevin and sign-agnostic, not ${sampler}.`);
  }

  const { backend } = await initBackend();

  // 3. The model: a U-Net is rebuilt from the config; a function model comes from its module.
  let model: ScoreModel | undefined;
  if (manifest.config?.kind === "function") {
    const module = o.modelModule ?? extra.config.modelModule;
    if (!module) throw new Error("this checkpoint holds a function model, which cannot be rebuilt from its config: pass --model-module <path>.");
    model = await buildModel({ preset: null, module: userPath(module), init: extra.modelInit });
  }
  const ckpt = await loadCheckpoint(dir, model ? { model } : {});
  for (const w of ckpt.optimizerWeights ?? []) w.tensor.dispose();
  const useEma = o.ema && ckpt.ema !== undefined;
  if (o.ema && !ckpt.ema) console.error("[sample] note: the checkpoint has no EMA weights; using the trained weights.");
  const { height, width, channels } = extra.data;
  console.error(
    `[sample] backend ${backend}; ${dir} (step ${ckpt.step}, ${extra.config.dataset}, ${sde.kind}); ${sampler} ${JSON.stringify(schedule)}; ` +
      `${o.n} images, batch ${o.batch}, seed ${o.seed}, ${useEma ? "EMA" : "raw"} weights`,
  );

  // 4. Sample.
  const score = samplerScore(ckpt.model, sde);
  const t0 = performance.now();
  const run = () =>
    sampleImages({
      score,
      sde,
      sampler,
      schedule,
      transform: extra.transform,
      shape: [height, width, channels],
      n: o.n,
      batch: o.batch,
      seed: o.seed,
      onBatch: (done, total) => console.error(`[sample] ${done}/${total} images (${((performance.now() - t0) / 1000).toFixed(1)} s)`),
    });
  const pixels = useEma ? await (ckpt.ema as NonNullable<typeof ckpt.ema>).apply(run) : await run();

  // 5. Outputs.
  const png = userPath(o.out);
  await mkdir(dirname(png), { recursive: true });
  await writeFile(png, gridPng(pixels, [o.n, height, width, channels]));
  console.error(`[sample] wrote ${png}`);
  if (o.outNpy) {
    const npy = userPath(o.outNpy);
    await mkdir(dirname(npy), { recursive: true });
    await writeFile(npy, encodeNpy(pixels, [o.n, height, width, channels]));
    console.error(`[sample] wrote ${npy} ([${o.n}, ${height}, ${width}, ${channels}] float32 in [0, 1])`);
  }
  ckpt.ema?.dispose();
}

main().catch((e: unknown) => fail("sample", e));
