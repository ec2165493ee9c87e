// dale-sample: draws images from a dale-train checkpoint with any matching sampler; writes a PNG grid and a .npy.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { initBackend } from "@dale/backend";
import { captionPng, fail, int, num, oneOf, userArgv, userPath } from "@dale/cli-kit";
import { encodeNpy } from "@dale/data";
import {
  checkSampler,
  DEFAULT_SOLVER,
  defaultSampler,
  GRID_NAMES,
  isSolver,
  referencePresets,
  SAMPLER_NAMES,
  samplerNfe,
  stepsWithinBudget,
  SOLVER_NAMES,
  type ReferenceDataset,
  type SamplerName,
  type SamplerSchedule,
} from "@dale/samplers";
import cliProgress from "cli-progress";
import { Command } from "commander";
import { checkGuide, gridPng, openCheckpoint, readTrainerManifest, type OpenCheckpoint } from "@dale/training";
import { addSolverFlags, solverSettings, type SolverFlags } from "./solver-flags";

const PRESETS = ["mnist", "fashion-mnist", "kmnist", "cifar10"] as const satisfies readonly ReferenceDataset[];

interface Options extends SolverFlags {
  checkpoint: string;
  /** A guide checkpoint (a path), or false for --no-guide. */
  guide?: string | false;
  guidance?: number;
  scale: number;
  caption?: string;
  sampler?: SamplerName;
  steps?: number;
  nfe?: number;
  json: boolean;
  sigmaMin?: number;
  grid?: (typeof GRID_NAMES)[number];
  rho?: number;
  tMin?: number;
  denoise: boolean;
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
  return addSolverFlags(new Command("dale-sample"))
    .description("Samples images from a dale-train checkpoint; writes a PNG grid and optionally a NumPy .npy of [N, H, W, C] float32 in [0, 1].")
    .requiredOption("--checkpoint <dir>", "the checkpoint folder (<out>/checkpoint), or the run's --out folder")
    .option(
      "--sampler <name>",
      `${SAMPLER_NAMES.join(", ")} (default: the checkpoint's recommended sampler (dale-export --sampler), else ${DEFAULT_SOLVER.sampler} for a denoiser checkpoint (--recipe edm), else dale-langevin for gbm, euler-maruyama for vp/ve)`,
      oneOf("--sampler", SAMPLER_NAMES),
    )
    .option("--steps <n>", `number of steps or time levels (default: ${DEFAULT_SOLVER.steps} for the solvers, 1000 with --preset, else 100)`, int("--steps", 1, 1_000_000))
    .option("--nfe <n>", "a budget of network evaluations per image instead of --steps: the most steps of the sampler that fit", int("--nfe", 1, 10_000_000))
    .option("--sigma-min <s>", "the solvers' smallest non-zero noise level (default 0.002)", num("--sigma-min", (v) => v > 0, "a positive number"))
    .option("--guide <dir>", "autoguidance (solvers only): a weaker checkpoint of the same process, e.g. an earlier one of the same run; each step then runs both networks")
    .option("--no-guide", "sample without the autoguidance that the checkpoint recommends")
    .option("--guidance <w>", "the autoguidance weight w: D_guide + w (D - D_guide) (default 2 with --guide, else the checkpoint's)", num("--guidance", (v) => v >= 0, "a number >= 0"))
    .option("--json", "print one JSON line at the end: n, sampler, steps, nfe (per image), seconds, out", false)
    .option("--grid <kind>", "where the time levels fall: uniform (T k / steps), or karras (evenly spaced in noise level^(1/7), Karras et al. 2022)", oneOf("--grid", GRID_NAMES))
    .option("--rho <r>", "the karras grid's exponent (default 7)", num("--rho", (v) => v > 0, "a positive number"))
    .option("--t-min <t>", "the karras grid's last time before 0 (default 1e-3 T)", num("--t-min", (v) => v > 0, "a positive number"))
    .option("--no-denoise", "let the last update of dale-langevin or sign-agnostic add noise too (the default leaves it out)")
    .option("--delta <d>", "step size (GBM samplers; default T / steps)", num("--delta", (v) => v > 0, "a positive number"))
    .option("--repeats <L>", "updates per level (GBM samplers)", int("--repeats", 1, 1000))
    .option("--anneal <a>", "noise factor applied after every level, in (0, 1] (GBM samplers)", num("--anneal", (v) => v > 0 && v <= 1, "in (0, 1]"))
    .option("--denoise-steps <K>", "noise-free updates at t = 0 after the loop (GBM samplers)", int("--denoise-steps", 0, 100000))
    .option("--preset <dataset>", `the reference schedule of ${PRESETS.join(", ")} (steps, delta, L, anneal, denoise steps)`, oneOf("--preset", PRESETS))
    .option("--n <count>", "number of images", int("--n", 1, 1_000_000), 100)
    .option("--batch <n>", "images per sampler call", int("--batch", 1, 100000), 100)
    .option("--seed <n>", "seed of the prior draws and the sampler noise", int("--seed", 0, 2 ** 31 - 1), 0)
    .option("--out <file>", "PNG grid", "grid.png")
    .option("--scale <k>", "draw each pixel of the grid as a k x k block (nearest neighbour)", int("--scale", 1, 64), 1)
    .option("--caption <text>", 'a line of text under the grid; "auto": the checkpoint, its step, the sampler, NFE and seed')
    .option("--out-npy <file>", "also write the images as a .npy file")
    .option("--ema", "use the EMA weights (default, when the checkpoint has them)", true)
    .option("--no-ema", "use the raw trained weights")
    .option("--model-module <path>", "the ES module that built a function model (its createModel(config)); required for such a checkpoint, whose stored path is never imported (a checkpoint from elsewhere could name any file)");
}

async function main(): Promise<void> {
  const program = command();
  program.parse(userArgv());
  const o = program.opts<Options>();

  // 1. The checkpoint's manifest and the trainer's extra JSON, validated.
  // Checked before any work: the grid is PNG bytes, whatever the name says.
  if (!o.out.toLowerCase().endsWith(".png")) throw new Error(`--out ${o.out}: the grid is written as PNG; give a file name ending in .png.`);
  if (o.outNpy !== undefined && !o.outNpy.toLowerCase().endsWith(".npy")) throw new Error(`--out-npy ${o.outNpy}: give a file name ending in .npy.`);
  const { dir, extra, sde, output } = readTrainerManifest(userPath(o.checkpoint));

  // 2. The sampler and its schedule; reject a sampler of the other family before loading anything heavy.
  // The checkpoint's recommended sampler (dale-export --sampler) when none is named, with its schedule; flags given
  // here change its fields.
  const recommended = extra.sampling;
  const sampler = o.sampler ?? recommended?.sampler ?? defaultSampler(sde, output);
  checkSampler(sampler, sde);
  if (o.nfe !== undefined && o.steps !== undefined) throw new Error("give --steps or --nfe, not both.");
  // Autoguidance: --guide, else the recommendation's (its folder inside the checkpoint's), unless --no-guide.
  let guideSpec: { dir: string; weight: number } | null = null;
  if (typeof o.guide === "string") guideSpec = { dir: userPath(o.guide), weight: o.guidance ?? 2 };
  else if (o.guide !== false && recommended?.guidance !== undefined && recommended.sampler === sampler) {
    guideSpec = { dir: join(dir, recommended.guidance.checkpoint), weight: o.guidance ?? recommended.guidance.weight };
  } else if (o.guidance !== undefined) throw new Error("--guidance sets the weight of autoguidance; give --guide <dir> (or a checkpoint that recommends one).");
  if (guideSpec !== null && !isSolver(sampler)) throw new Error(`autoguidance (--guide) combines denoisers, which only the solvers (${SOLVER_NAMES.join(", ")}) take, not ${sampler}.`);

  const stored = recommended !== undefined && recommended.sampler === sampler ? recommended.schedule : undefined;
  // With a guide both networks run at every evaluation, and --nfe counts both.
  const perEvaluation = guideSpec !== null ? 2 : 1;
  const steps = o.steps ?? (o.nfe !== undefined ? stepsWithinBudget(sampler, o.nfe, { networks: perEvaluation, caller: "dale-sample --nfe" }) : (stored?.steps ?? (isSolver(sampler) ? DEFAULT_SOLVER.steps : 100)));
  if (!isSolver(sampler) && o.sigmaMin !== undefined) throw new Error(`--sigma-min shapes the solvers' grid (${SOLVER_NAMES.join(", ")}), not ${sampler}.`);
  if (isSolver(sampler) && (o.grid !== undefined || o.tMin !== undefined)) throw new Error(`--grid and --t-min shape the time grid of the reference samplers; ${sampler} runs on the karras grid in noise level (--rho, --sigma-min).`);
  let schedule: SamplerSchedule = { ...stored, steps };
  if (o.preset) {
    if (sampler !== "dale-langevin" && sampler !== "sign-agnostic") throw new Error(`--preset gives schedules for dale-langevin and sign-agnostic only, not ${sampler}.`);
    const ref = referencePresets[o.preset][sampler === "dale-langevin" ? "daleLangevin" : "signAgnostic"];
    schedule = { ...ref, ...(o.steps !== undefined ? { steps: o.steps } : {}) };
  }
  if (o.grid !== undefined) schedule.grid = o.grid;
  if (o.rho !== undefined) schedule.rho = o.rho;
  if (o.tMin !== undefined) schedule.tMin = o.tMin;
  if (o.sigmaMin !== undefined) schedule.sigmaMin = o.sigmaMin;
  Object.assign(schedule, solverSettings(o, sampler));
  if ((o.rho !== undefined || o.tMin !== undefined) && o.grid !== "karras" && !isSolver(sampler)) throw new Error("--rho and --t-min shape the karras grid; add --grid karras.");
  if (o.grid === "karras" && o.delta !== undefined) throw new Error("--delta is the reference's fixed step on the uniform grid; it does not combine with --grid karras.");
  if (!o.denoise) schedule.denoise = false;
  if (o.delta !== undefined) schedule.delta = o.delta;
  if (o.repeats !== undefined) schedule.repeats = o.repeats;
  if (o.anneal !== undefined) schedule.anneal = o.anneal;
  if (o.denoiseSteps !== undefined) schedule.denoiseSteps = o.denoiseSteps;
  const gbmOnly = o.delta !== undefined || o.repeats !== undefined || o.anneal !== undefined || o.denoiseSteps !== undefined || !o.denoise;
  if (gbmOnly && sampler !== "dale-langevin" && sampler !== "sign-agnostic") {
    throw new Error(`--delta, --repeats, --anneal, --denoise-steps and --no-denoise apply to dale-langevin and sign-agnostic, not ${sampler}.`);
  }

  const { backend } = await initBackend();

  // 3. The model: a U-Net is rebuilt from the config; a function model comes from the module --model-module names.
  const ckpt = await openCheckpoint(dir, o.modelModule !== undefined ? { modelModule: userPath(o.modelModule) } : {});
  let guide: OpenCheckpoint | null = null;
  if (guideSpec !== null) {
    guide = await openCheckpoint(guideSpec.dir);
    checkGuide(ckpt, guide);
  }
  const useEma = o.ema && ckpt.ema !== undefined;
  if (o.ema && !ckpt.ema) console.error("[sample] note: the checkpoint has no EMA weights; using the trained weights.");
  const { height, width, channels } = extra.data;
  console.error(
    `[sample] backend ${backend}; ${dir} (step ${ckpt.step}, ${extra.config.dataset}, ${sde.kind}); ${sampler} ${JSON.stringify(schedule)}; ` +
      `${o.n} images, batch ${o.batch}, seed ${o.seed}, ${useEma ? "EMA" : "raw"} weights` +
      (guide && guideSpec ? `; autoguidance by ${guide.dir} (step ${guide.step}), w ${guideSpec.weight}` : ""),
  );

  // 4. Sample, with progress per network evaluation: a bar on a terminal, else a line every tenth of a batch.
  // Network evaluations per image: the solver's, twice over with a guide.
  const nfe = perEvaluation * samplerNfe(sampler, schedule);
  const batches = Math.ceil(o.n / o.batch);
  const totalEvals = nfe * batches;
  const live = process.stderr.isTTY === true;
  const bar = live
    ? new cliProgress.SingleBar(
        { format: "[sample] {bar} {value}/{total} network evaluations | {images} images | {duration_formatted} | ETA {eta_formatted}", stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalEvals, 0, { images: `0/${o.n}` });
  const t0 = performance.now();
  const every = Math.max(1, Math.round(nfe / 10));
  let pixels: Float32Array;
  try {
    pixels = await ckpt.sample({
      sampler,
      schedule,
      n: o.n,
      batch: o.batch,
      seed: o.seed,
      ema: useEma,
      ...(guide && guideSpec ? { guide: { checkpoint: guide, weight: guideSpec.weight } } : {}),
      onEvaluation: ({ nfe: evaluations, done, batchSize, total }) => {
        const k = perEvaluation * evaluations;
        const evals = Math.floor(done / o.batch) * nfe + k;
        if (bar) bar.update(evals, { images: `${done}/${total}` });
        else if (k % every === 0 || k === nfe) {
          console.error(`[sample] ${evals}/${totalEvals} network evaluations (images ${done + 1}-${done + batchSize} of ${total}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        }
      },
    });
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  console.error(`[sample] ${o.n} images, ${nfe} network evaluations each, in ${seconds.toFixed(1)} s`);

  // 5. Outputs. A diverged sampler leaves NaN: say so (the grid shows it black, the .npy keeps it).
  let nonFinite = 0;
  for (const v of pixels) if (!Number.isFinite(v)) nonFinite++;
  if (nonFinite > 0) {
    console.error(`[sample] warning: ${nonFinite} of ${pixels.length} pixel values are NaN (the sampler diverged); they are black in the grid and NaN in --out-npy.`);
  }
  const png = userPath(o.out);
  await mkdir(dirname(png), { recursive: true });
  let grid: Buffer = gridPng(pixels, [o.n, height, width, channels], { scale: o.scale });
  if (o.caption !== undefined) {
    const text = o.caption === "auto" ? `${relative(process.cwd(), dir) || dir}, step ${ckpt.step}: ${sampler}, ${schedule.steps} steps${guideSpec ? `, autoguided (w ${guideSpec.weight})` : ""}, NFE ${nfe}, seed ${o.seed}` : o.caption;
    try {
      grid = await captionPng(grid, text);
    } catch (e) {
      // Only the caption is lost: e.g. a bundle without resvg's native binding.
      console.error(`[sample] warning: no caption (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); the grid is written without it.`);
    }
  }
  await writeFile(png, grid);
  console.error(`[sample] wrote ${png}`);
  if (o.outNpy) {
    const npy = userPath(o.outNpy);
    await mkdir(dirname(npy), { recursive: true });
    await writeFile(npy, encodeNpy(pixels, [o.n, height, width, channels]));
    console.error(`[sample] wrote ${npy} ([${o.n}, ${height}, ${width}, ${channels}] float32 in [0, 1]${nonFinite > 0 ? ", NaN where the sampler diverged" : ""})`);
  }
  if (o.json) console.log(JSON.stringify({ n: o.n, sampler, steps: schedule.steps, nfe, seconds: Number(seconds.toFixed(3)), out: png, ...(o.outNpy ? { outNpy: userPath(o.outNpy) } : {}), seed: o.seed, schedule, ...(guide && guideSpec ? { guidance: { checkpoint: guide.dir, step: guide.step, weight: guideSpec.weight } } : {}), checkpoint: dir, step: ckpt.step }));
  ckpt.dispose();
  guide?.dispose();
}

main().catch((e: unknown) => fail("sample", e));
