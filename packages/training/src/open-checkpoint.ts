// Opening a trained checkpoint for sampling (dale-sample, dale-export and the benchmark use it).
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GUIDE_HINT, guideMismatch, toDenoiser, type Ema, type ScoreModel } from "@dale/models";
import { loadCheckpoint } from "@dale/models/node";
import { autoguidance, isSolver, SOLVER_NAMES, type SamplerName, type SamplerSchedule } from "@dale/samplers";
import { sdeFromJSON, type AnySDE, type ScoreFn, type SDEJSON } from "@dale/sde";
import { extraSchema, formatZodError, type TrainerExtra } from "./config";
import { crossCheckManifest, type ManifestFacts } from "./manifest-checks";
import { buildModel, samplerScore } from "./model";
import { sampleImages } from "./sample-images";

/** The checkpoint folder of `path`: the folder itself, or its `checkpoint/` (a dale-train --out folder). */
export function checkpointDir(path: string): string {
  let dir = resolve(path);
  if (!existsSync(join(dir, "checkpoint.json")) && existsSync(join(dir, "checkpoint", "checkpoint.json"))) dir = join(dir, "checkpoint");
  return dir;
}

/** A checkpoint's manifest and the trainer's validated `extra`, without loading any weights. */
export function readTrainerManifest(path: string): { dir: string; extra: TrainerExtra; sde: AnySDE; functionModel: boolean; output: string | undefined } {
  const dir = checkpointDir(path);
  const manifestPath = join(dir, "checkpoint.json");
  if (!existsSync(manifestPath)) throw new Error(`readTrainerManifest: ${path}: no checkpoint.json there (nor in its checkpoint/ folder).`);
  let manifest: { extra?: unknown; config?: { kind?: string; output?: unknown } } & ManifestFacts;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as typeof manifest;
  } catch (e) {
    throw new Error(`readTrainerManifest: ${manifestPath} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) throw new Error(`readTrainerManifest: ${manifestPath} must hold a JSON object.`);
  const parsed = extraSchema.safeParse(manifest.extra);
  if (!parsed.success) throw new Error(formatZodError(parsed.error, `${manifestPath} was not written by dale-train`));
  crossCheckManifest(dir, manifest, parsed.data, { resume: false });
  return { dir, extra: parsed.data, sde: sdeFromJSON(parsed.data.sde as unknown as SDEJSON), functionModel: manifest.config?.kind === "function", output: typeof manifest.config?.output === "string" ? manifest.config.output : undefined };
}

/** A loaded checkpoint, ready to sample. Call `dispose()` when done. */
export interface OpenCheckpoint {
  dir: string;
  extra: TrainerExtra;
  sde: AnySDE;
  model: ScoreModel;
  /** The EMA of the weights, when the checkpoint has one. */
  ema: Ema | undefined;
  /** Training step of the checkpoint. */
  step: number;
  /** The sampler-side score of the model (raw weights; `sample` swaps in the EMA weights when asked). */
  score: ScoreFn;
  /** `[n, H, W, C]` images in [0, 1]; see `sampleImages` for how seeds map to batches. */
  sample(
    options: {
      sampler: SamplerName;
      schedule: SamplerSchedule;
      n: number;
      batch: number;
      seed: number;
      ema?: boolean;
      /**
       * Autoguidance by a weaker checkpoint of the same process (`autoguidance` of @dale/samplers; solvers only): its
       * denoiser is D_guide + weight (D - D_guide), each with its EMA weights when `ema`. Check it with `checkGuide`.
       */
      guide?: { checkpoint: OpenCheckpoint; weight: number };
    } & Pick<Parameters<typeof sampleImages>[0], "onBatch" | "onEvaluation">,
  ): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Loads a dale-train checkpoint: a U-Net is rebuilt from its config; a function model (`fromFunction`) is code, built
 * by the module that `options.modelModule` names. Opening a checkpoint never runs code it names: the module path stored
 * in `checkpoint.json` is shown as a hint in the error, not imported, since a checkpoint from elsewhere could name any
 * file.
 */
export async function openCheckpoint(path: string, options: { modelModule?: string } = {}): Promise<OpenCheckpoint> {
  const { dir, extra, sde, functionModel } = readTrainerManifest(path);
  let model: ScoreModel | undefined;
  if (functionModel) {
    if (options.modelModule === undefined) throw new Error(functionModelMessage(dir, extra.config.modelModule));
    model = await buildModel({ preset: null, module: resolve(options.modelModule), init: extra.modelInit });
  }
  const ckpt = await loadCheckpoint(dir, model ? { model } : {});
  for (const w of ckpt.optimizerWeights ?? []) w.tensor.dispose();
  const score = samplerScore(ckpt.model, sde);
  const denoiser = ckpt.model.output === "denoiser" ? toDenoiser(ckpt.model, sde) : undefined;
  const { height, width, channels } = extra.data;
  return {
    dir,
    extra,
    sde,
    model: ckpt.model,
    ema: ckpt.ema,
    step: ckpt.step,
    score,
    sample: async ({ ema = true, guide, ...o }) => {
      if (guide === undefined) {
        const run = () => sampleImages({ score, ...(denoiser ? { denoiser } : {}), sde, transform: extra.transform, shape: [height, width, channels], ...o });
        return ema && ckpt.ema ? ckpt.ema.apply(run) : run();
      }
      if (!isSolver(o.sampler)) throw new Error(`sample: autoguidance combines denoisers, which only the solvers (${SOLVER_NAMES.join(", ")}) take, not ${o.sampler}.`);
      // toDenoiser serves any model: its own denoiser output, else Tweedie's formula on its score.
      const other = guide.checkpoint;
      const guided = autoguidance(toDenoiser(ckpt.model, sde), toDenoiser(other.model, other.sde), guide.weight);
      const run = () => sampleImages({ score, denoiser: guided, sde, transform: extra.transform, shape: [height, width, channels], ...o });
      const withGuide = () => (ema && other.ema ? other.ema.apply(run) : run());
      return ema && ckpt.ema ? ckpt.ema.apply(withGuide) : withGuide();
    },
    dispose: () => {
      ckpt.ema?.dispose();
      for (const v of ckpt.model.variables) v.dispose();
    },
  };
}

/** Why a function model's checkpoint needs --model-module, with the stored path as a hint. */
function functionModelMessage(dir: string, stored: string | null): string {
  return (
    `${dir} holds a function model (fromFunction), whose network is JavaScript code, not data: it is rebuilt only by a module ` +
    `that you name with --model-module <path> (openCheckpoint(dir, { modelModule }) in code). The path stored in checkpoint.json is not ` +
    `imported, since a checkpoint from elsewhere could name any file and importing it would run that code. ` +
    (stored ? `The checkpoint names ${JSON.stringify(stored)}; check that file, then pass it.` : "The checkpoint names no module.")
  );
}

/**
 * Checks that `guide` can guide `main` (autoguidance): the same process with the same prior and noise coordinates
 * (`extra.sde`), the same pixel transform and image shape. Errors name both folders.
 */
export function checkGuide(main: Pick<OpenCheckpoint, "dir" | "extra">, guide: Pick<OpenCheckpoint, "dir" | "extra">): void {
  const facts = (e: TrainerExtra) => ({ sde: e.sde, transform: e.transform, shape: [e.data.height, e.data.width, e.data.channels] });
  const mismatch = guideMismatch(facts(main.extra), facts(guide.extra));
  if (mismatch !== undefined) throw new Error(`checkGuide: the guide ${guide.dir} has another ${mismatch} than ${main.dir}; ${GUIDE_HINT}.`);
}
