// A pretrained model one call away (diffusers' `from_pretrained`): the checkpoint carries the network, the process,
// the prior, the pixel transform and the default solver, and loading never runs code from it.
import {
  checkSampler,
  checkSamplerChoice,
  DEFAULT_SOLVER,
  defaultSampler,
  isSamplerName,
  isSolver,
  sampleBatches,
  type BatchProgress,
  samplerNfe,
  SAMPLER_NAMES,
  stepsWithinBudget,
  type Denoiser,
  autoguidance,
  type SamplerChoice,
  type SamplerName,
  type SamplerSchedule,
} from "@dale/samplers";
import { sdeFromJSON, type AnySDE, type Prior, type ScoreFn, type SDEJSON } from "@dale/sde";
import * as tf from "@tensorflow/tfjs-core";
import { CHECKPOINT_FILES, locate, readManifest, restoreCheckpoint, urlSource, type CheckpointManifest, type CheckpointSource } from "./checkpoint";
import { GUIDE_HINT, guideMismatch } from "./guide";
import { toDenoiser, toSamplerScore } from "./score-model";
import type { ModelConfig } from "./types";
import type { UNet } from "./unet";

const FN = "fromPretrained";

/**
 * How pixels in [0, 1] were mapped into the process for training, as dale-train stores it in `extra.transform`:
 * `"positive"` adds `shift` (the reference: x + 1 in [1, 2]); `"symmetric"` maps to 2 x - 1 in [-1, 1].
 */
export type PixelTransform = { kind: "positive"; shift: number } | { kind: "symmetric" };

/**
 * The inverse of a {@link PixelTransform}, clipped to [0, 1]: `"positive"` gives clip(x, shift, shift + 1) - shift,
 * `"symmetric"` clip((x + 1) / 2, 0, 1). A NaN stays NaN: tfjs' wasm backend clips NaN to the lower bound, which would
 * turn a diverged sampler's output into black images that nothing downstream could tell from real ones. Runs in
 * `tf.tidy`; any shape.
 *
 * @example
 * toPixels(tf.tensor([0.5, 1.25, 3]), { kind: "positive", shift: 1 }); // [0, 0.25, 1]
 */
export function toPixels(x: tf.Tensor, transform: PixelTransform): tf.Tensor {
  const fn = "toPixels";
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: x must be a tensor, got ${typeof x}.`);
  checkTransform(transform, fn, "transform");
  return tf.tidy(() => {
    const clipped =
      transform.kind === "positive" ? tf.sub(tf.clipByValue(x, transform.shift, transform.shift + 1), transform.shift) : tf.clipByValue(tf.div(tf.add(x, 1), 2), 0, 1);
    return tf.where(tf.isNaN(x), x, clipped);
  });
}

function checkTransform(transform: unknown, fn: string, what: string): asserts transform is PixelTransform {
  const t = transform as { kind?: unknown; shift?: unknown } | null;
  if (t === null || typeof t !== "object") throw new Error(`${fn}: ${what} must be { kind: "positive", shift } or { kind: "symmetric" }, got ${JSON.stringify(transform) ?? String(transform)}.`);
  if (t.kind === "symmetric") return;
  if (t.kind === "positive" && typeof t.shift === "number" && Number.isFinite(t.shift)) return;
  throw new Error(`${fn}: ${what} must be { kind: "positive", shift: <finite number> } or { kind: "symmetric" }, got ${JSON.stringify(transform)}.`);
}

/** A U-Net's stored config. */
export type UNetModelConfig = Extract<ModelConfig, { kind: "unet" }>;

/** What a pretrained pipeline was built from, as read from checkpoint.json. */
export interface PretrainedConfig {
  /** The network's constructor config. */
  readonly model: UNetModelConfig;
  /** The process, as stored (`sdeFromJSON` rebuilt `pipe.sde` from it). */
  readonly sde: SDEJSON;
  /** How pixels were mapped into the process. */
  readonly transform: PixelTransform;
  /** One image: `[height, width, channels]`. */
  readonly shape: readonly [number, number, number];
  /**
   * The default sampler, its steps and its other schedule fields: the checkpoint's recommendation (`extra.sampling`,
   * written by `dale-export --sampler`) where it has one, else `DEFAULT_SOLVER` (Heun, 18 steps) for a denoiser network.
   */
  readonly sampler: {
    readonly name: SamplerName;
    readonly steps: number;
    readonly schedule: Readonly<SamplerSchedule>;
    /** The recommended autoguidance: the guide's folder (inside the checkpoint's), its step and the weight. */
    readonly guidance?: { readonly checkpoint: string; readonly step: number; readonly weight: number };
  };
  /** Which weights the network holds: the EMA averages (the default when stored) or the trained ones. */
  readonly weights: "ema" | "model";
  /** The training step of the checkpoint. */
  readonly step: number;
}

/** Progress of {@link PretrainedPipeline.sample}, after each network evaluation of each batch. */
export interface PretrainedProgress {
  /** Network evaluations of the current batch so far. */
  nfe: number;
  /** Network evaluations per batch (per image). */
  totalNfe: number;
  /** Images finished before the current batch. */
  done: number;
  /** Images in the current batch. */
  batchSize: number;
  /** Images asked for. */
  total: number;
  /**
   * The current batch's state x_t as images: the process's state mapped through the inverse pixel transform and clipped
   * to [0, 1], `[batchSize, height, width, channels]`. A new tensor that the caller disposes; call it inside the
   * callback (nothing is computed otherwise). A page that redraws a grid after every evaluation watches x_t evolve.
   */
  x: () => tf.Tensor4D;
  /** The network's current estimate of x_0 as images, the same way (solvers only; the reference samplers hold none). */
  denoised?: () => tf.Tensor4D;
}

/** Options of {@link PretrainedPipeline.sample}. */
export interface PretrainedSampleOptions {
  /** How many images. */
  n: number;
  /** Seed (an integer; default 0). Batch b draws the prior with (seed * 1000003 + 2 b) | 0 and the noise with that + 1. */
  seed?: number;
  /** A sampler of `samplerCatalogue`; default the checkpoint's (`config.sampler`). */
  sampler?: SamplerName;
  /** Steps; default the checkpoint's for its sampler, else 18 for a solver and 100 for a reference sampler (as dale-sample). */
  steps?: number;
  /** A budget of network evaluations per image instead of `steps`: the most steps that fit, counting both networks when autoguided (`stepsWithinBudget` of @dale/samplers). */
  nfe?: number;
  /** The sampler's other schedule options (`SamplerSchedule` of @dale/samplers: grid, rho, sigmaMin, ...). */
  schedule?: Omit<SamplerSchedule, "steps">;
  /**
   * The recommended autoguidance (`config.sampler.guidance`): false leaves it out, a number replaces its weight. It
   * applies with the recommended sampler only; each evaluation then runs both networks.
   */
  guidance?: number | false;
  /** Images per sampler call (default 100, as dale-sample); the seeds depend on it once n exceeds it. */
  batch?: number;
  /** Called after each network evaluation. */
  onProgress?: (progress: PretrainedProgress) => void;
  /** Stops between network evaluations; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A pretrained model, ready to sample: `fromPretrained`'s result. Call `dispose()` when done. */
export interface PretrainedPipeline {
  readonly config: PretrainedConfig;
  /** The network, holding `config.weights`. */
  readonly model: UNet;
  /** The process the network was trained with. */
  readonly sde: AnySDE;
  /** The prior p_T that sampling starts from (`sde.prior`). */
  readonly prior: Prior;
  /** The network's Stein score for the reference samplers (`toSamplerScore`). */
  readonly score: ScoreFn;
  /** The network's denoiser for the solvers (`toDenoiser`), for a denoiser network; otherwise the solvers use Tweedie on `score`. */
  readonly denoiser: Denoiser | undefined;
  /** The manifest as stored (including `extra`). */
  readonly manifest: CheckpointManifest;
  /**
   * Draws `n` images: prior samples at T, the sampler down to t = 0, then the inverse pixel transform. Resolves to a
   * float32 tensor `[n, height, width, channels]` in [0, 1], which the caller disposes. The same seeds, sampler and
   * steps give the same pixels as `dale-sample` and `openCheckpoint(...).sample` of @dale/training.
   */
  sample(options: PretrainedSampleOptions): Promise<tf.Tensor4D>;
  /**
   * What `sample` would run for these options, checked the same way, without sampling: the sampler, its steps and
   * schedule, the network evaluations per image (both networks when autoguided) and the guidance weight. A page that
   * takes an NFE budget shows the steps it buys before it samples.
   */
  plan(options?: PretrainedPlanOptions): PretrainedPlan;
  /** The inverse pixel transform of the checkpoint ({@link toPixels}). */
  toPixels(x: tf.Tensor): tf.Tensor;
  /** Disposes the network's weights; the pipeline cannot sample afterwards. */
  dispose(): void;
}

/** The options of {@link PretrainedPipeline.sample} that choose what runs. */
export type PretrainedPlanOptions = Pick<PretrainedSampleOptions, "sampler" | "steps" | "nfe" | "schedule" | "guidance">;

/** What {@link PretrainedPipeline.sample} runs for some options ({@link PretrainedPipeline.plan}). */
export interface PretrainedPlan {
  sampler: SamplerName;
  steps: number;
  /** The whole schedule: the checkpoint's recommended one for its sampler, then the options', then `steps`. */
  schedule: SamplerSchedule;
  /** Network evaluations per image, counting the guide's when autoguided. */
  nfe: number;
  /** The autoguidance weight w when the checkpoint's guide runs; undefined when it does not. */
  guidance: number | undefined;
}

/** Options of {@link fromPretrained}. */
export interface FromPretrainedOptions {
  /** The weights to load: "ema" (the default when the checkpoint has them) or "model" (the trained weights). */
  weights?: "ema" | "model";
  /** The fetch for URL sources (default the global one), e.g. one that adds headers. */
  fetch?: typeof fetch;
}

/** A source from what `fromPretrained` was given: a URL (absolute, or relative to a browser page), or a source as is. */
function sourceOf(source: string | URL | CheckpointSource, options: FromPretrainedOptions): CheckpointSource {
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  if (source instanceof URL) {
    if (source.protocol !== "http:" && source.protocol !== "https:") throw notAUrl(source.href);
    return urlSource(source, fetchOption);
  }
  if (typeof source === "string") {
    if (source === "") throw new Error(`${FN}: source must be a URL, a folder path (in Node, through @dale/models/node) or a CheckpointSource, got an empty string.`);
    if (/^https?:\/\//i.test(source)) return urlSource(source, fetchOption);
    const page = (globalThis as { location?: { href?: unknown } }).location?.href;
    const inNode = typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === "string";
    if (!inNode && typeof page === "string" && /^https?:/i.test(page) && !/^[a-z][a-z0-9+.-]*:/i.test(source)) return urlSource(new URL(source, page), fetchOption);
    throw notAUrl(source);
  }
  if (source !== null && typeof source === "object" && typeof (source as CheckpointSource).read === "function") {
    if (typeof (source as CheckpointSource).location !== "string") throw new Error(`${FN}: a CheckpointSource needs a string location (for messages).`);
    return source;
  }
  throw new Error(`${FN}: source must be a URL, a folder path (in Node, through @dale/models/node) or a CheckpointSource { location, read }, got ${source === null ? "null" : typeof source}.`);
}

function notAUrl(source: string): Error {
  return new Error(
    `${FN}: ${JSON.stringify(source)} is not an http(s) URL. The main entry of @dale/models reads URLs and CheckpointSources; ` +
      `in Node, read a checkpoint folder with fromPretrained of "@dale/models/node".`,
  );
}

/** The stored process, pixel transform and image shape, checked before any weights are read. */
function pipelineFacts(
  manifest: CheckpointManifest,
  where: string,
): { config: UNetModelConfig; sdeJSON: SDEJSON; sde: AnySDE; transform: PixelTransform; shape: [number, number, number]; sampling: SamplerChoice | undefined } {
  const config = manifest.config;
  if (config.kind === "function") {
    throw new Error(
      `${FN}: ${where} holds a function model (fromFunction), whose network is JavaScript code, not data; fromPretrained never loads or ` +
        `runs code from a checkpoint. Rebuild the network with your own module and load its weights with loadCheckpoint(dir, { model }) ` +
        `of @dale/models/node (or openCheckpoint(dir, { modelModule }) of @dale/training).`,
    );
  }
  if (config.kind !== "unet") throw new Error(`${FN}: ${where} holds a "${String((config as { kind: unknown }).kind)}" model; fromPretrained rebuilds U-Nets ("unet") only.`);
  const extra = manifest.extra as { sde?: unknown; transform?: unknown; sampling?: unknown } | undefined;
  if (extra === null || typeof extra !== "object" || extra.sde === undefined || extra.transform === undefined) {
    throw new Error(
      `${FN}: ${where} does not say how to sample: it needs extra.sde (the process, its toJSON()) and extra.transform (how pixels were mapped), ` +
        `as dale-train writes them; got extra ${extra === undefined ? "absent" : `with keys ${JSON.stringify(Object.keys(extra ?? {}))}`}.`,
    );
  }
  let sde: AnySDE;
  try {
    sde = sdeFromJSON(extra.sde as SDEJSON);
  } catch (err) {
    throw new Error(`${FN}: ${where}: extra.sde is not a process Dale can rebuild (${err instanceof Error ? err.message : String(err)}).`);
  }
  checkTransform(extra.transform, FN, `${where}: extra.transform`);
  const [height, width] = config.imageSize;
  const { channels } = config;
  if (![height, width, channels].every((d) => Number.isInteger(d) && (d as number) > 0)) {
    throw new Error(`${FN}: ${where}: the U-Net config's imageSize ${JSON.stringify(config.imageSize)} and channels ${JSON.stringify(channels)} must be positive integers.`);
  }
  let sampling: SamplerChoice | undefined;
  if (extra.sampling !== undefined) {
    sampling = checkSamplerChoice(extra.sampling, `${FN}: ${where}: extra.sampling`);
    try {
      checkSampler(sampling.sampler, sde);
    } catch (err) {
      throw new Error(`${FN}: ${where}: extra.sampling recommends a sampler of the wrong family (${err instanceof Error ? err.message : String(err)}).`);
    }
  }
  return { config, sdeJSON: extra.sde as SDEJSON, sde, transform: extra.transform, shape: [height as number, width as number, channels], sampling };
}

/**
 * Loads a pretrained checkpoint and returns a pipeline that samples images in one call (diffusers'
 * `from_pretrained`). The checkpoint carries everything needed: the U-Net (its config and safetensors weights, the EMA
 * averages by default), the process (`extra.sde`, rebuilt by `sdeFromJSON`) and so its prior, the pixel transform
 * (`extra.transform`) and the default sampler: the one the checkpoint recommends (`extra.sampling`, from `dale-export
 * --sampler`), else `defaultSampler`'s (Heun with 18 steps for a denoiser network). Loading
 * never runs code: a function model (`fromFunction`) is refused. Every file is checked against the manifest's size
 * and sha256 (WebCrypto), and only the weights file in use is read (a URL source downloads one safetensors file).
 *
 * `source` is an http(s) URL of a checkpoint folder (fetched; in a browser a relative URL is resolved against the
 * page), or a {@link CheckpointSource}. In Node, `fromPretrained` of @dale/models/node also takes folder paths.
 * Sampling runs on whatever tfjs backend is active. Errors start with "fromPretrained:".
 *
 * @example
 * const pipe = await fromPretrained("https://example.org/checkpoints/mnist-gbm/");
 * const images = await pipe.sample({ n: 16, seed: 0 }); // tf.Tensor4D [16, 28, 28, 1] in [0, 1]
 * images.dispose();
 * pipe.dispose();
 */
export async function fromPretrained(source: string | URL | CheckpointSource, options: FromPretrainedOptions = {}): Promise<PretrainedPipeline> {
  if (options === null || typeof options !== "object") throw new Error(`${FN}: options must be an object, got ${options === null ? "null" : typeof options}.`);
  if (options.weights !== undefined && options.weights !== "ema" && options.weights !== "model") {
    throw new Error(`${FN}: options.weights must be "ema" or "model", got ${JSON.stringify(options.weights) ?? String(options.weights)}.`);
  }
  const src = sourceOf(source, options);
  const manifest = await readManifest(src, FN);
  const where = locate(src, CHECKPOINT_FILES.manifest);
  const facts = pipelineFacts(manifest, where);
  const hasEma = manifest.files.ema !== undefined;
  if (options.weights === "ema" && !hasEma) throw new Error(`${FN}: ${where} has no EMA weights (${CHECKPOINT_FILES.ema}); pass weights: "model".`);
  const weights = options.weights ?? (hasEma ? "ema" : "model");
  const ckpt = await restoreCheckpoint<UNet>(src, manifest, { fn: FN, parts: { weights, ema: false, optimizer: false } });
  let guide: { model: UNet; step: number } | undefined;
  const rec = facts.sampling?.guidance;
  if (rec !== undefined) {
    // The guide lives in a folder inside the checkpoint's (checkSamplerChoice refused any path that leaves it).
    const sub = subSource(src, rec.checkpoint);
    try {
      const guideManifest = await readManifest(sub, FN);
      const guideFacts = pipelineFacts(guideManifest, locate(sub, CHECKPOINT_FILES.manifest));
      const mismatch = guideMismatch({ sde: facts.sdeJSON, transform: facts.transform, shape: facts.shape }, { sde: guideFacts.sdeJSON, transform: guideFacts.transform, shape: guideFacts.shape });
      if (mismatch !== undefined) throw new Error(`${FN}: ${locate(sub, CHECKPOINT_FILES.manifest)}: the guide has another ${mismatch} than ${where}; ${GUIDE_HINT}.`);
      const guideWeights = guideManifest.files.ema !== undefined && weights === "ema" ? "ema" : "model";
      const g = await restoreCheckpoint<UNet>(sub, guideManifest, { fn: FN, parts: { weights: guideWeights, ema: false, optimizer: false } });
      guide = { model: g.model, step: guideManifest.step };
    } catch (err) {
      ckpt.model.dispose();
      throw err;
    }
  }
  return pipeline(ckpt.model, manifest, facts, weights, guide);
}

/** The files of the folder `path` inside a source's folder. */
function subSource(src: CheckpointSource, path: string): CheckpointSource {
  return { location: locate(src, path), read: (name) => src.read(`${path}/${name}`), locate: (name) => locate(src, `${path}/${name}`) };
}

/** A check that a named option is an integer >= min, with errors that start with `fn`. */
function integerCheck(fn: string): (v: unknown, name: string, min: number) => void {
  return (v, name, min) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new Error(`${fn}: ${name} must be an integer >= ${min}, got ${JSON.stringify(v) ?? String(v)}.`);
  };
}

function pipeline(model: UNet, manifest: CheckpointManifest, facts: ReturnType<typeof pipelineFacts>, weights: "ema" | "model", guide?: { model: UNet; step: number }): PretrainedPipeline {
  const { sde, transform, shape } = facts;
  const { output } = model;
  const recommended = facts.sampling;
  const defaultName = recommended?.sampler ?? defaultSampler(sde, output);
  // The recommended schedule serves its own sampler; another sampler starts from the catalogue's defaults.
  const storedSchedule = (name: SamplerName) => (recommended !== undefined && recommended.sampler === name ? recommended.schedule : undefined);
  const defaultSteps = (name: SamplerName) => storedSchedule(name)?.steps ?? (isSolver(name) ? DEFAULT_SOLVER.steps : 100);
  const config: PretrainedConfig = Object.freeze({
    model: facts.config,
    sde: facts.sdeJSON,
    transform,
    shape,
    sampler: Object.freeze({
      name: defaultName,
      steps: defaultSteps(defaultName),
      schedule: Object.freeze({ ...(storedSchedule(defaultName) ?? { steps: defaultSteps(defaultName) }) }),
      ...(recommended?.guidance && guide ? { guidance: Object.freeze({ ...recommended.guidance, step: guide.step }) } : {}),
    }),
    weights,
    step: manifest.step,
  });
  const score = toSamplerScore(model, sde);
  const denoiser = output === "denoiser" ? toDenoiser(model, sde) : undefined;
  // toDenoiser serves any model: its own denoiser output, else Tweedie's formula on its score.
  const guideDenoiser = guide ? toDenoiser(guide.model, sde) : undefined;
  let disposed = false;

  /** The sampler, schedule, NFE and guidance that `options` ask for, checked: what `plan` returns and `sample` runs. */
  const planOf = (options: PretrainedPlanOptions, fn: string): PretrainedPlan => {
    if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object, got ${options === null ? "null" : typeof options}.`);
    const int = integerCheck(fn);
    const sampler = options.sampler ?? config.sampler.name;
    if (typeof sampler !== "string" || !isSamplerName(sampler)) throw new Error(`${fn}: sampler must be one of ${SAMPLER_NAMES.join(", ")}, got ${JSON.stringify(sampler)}.`);
    checkSampler(sampler, sde);
    if (options.steps !== undefined && options.nfe !== undefined) throw new Error(`${fn}: give steps or nfe, not both.`);
    if (options.steps !== undefined) int(options.steps, "steps", 1);
    if (options.nfe !== undefined) int(options.nfe, "nfe", 1);
    const { guidance } = options;
    if (guidance !== undefined && guidance !== false && !(typeof guidance === "number" && Number.isFinite(guidance) && guidance >= 0)) {
      throw new Error(`${fn}: guidance must be false or a finite number >= 0, got ${JSON.stringify(guidance)}.`);
    }
    const guided = guideDenoiser !== undefined && recommended?.guidance !== undefined && sampler === recommended.sampler && guidance !== false;
    if (typeof guidance === "number" && !guided) throw new Error(`${fn}: guidance sets the weight of the checkpoint's recommended autoguidance, which ${guideDenoiser ? `applies to ${recommended?.sampler} only` : "this checkpoint does not have"}.`);
    const networks = guided ? 2 : 1;
    const steps = options.nfe !== undefined ? stepsWithinBudget(sampler, options.nfe, { networks, caller: fn }) : (options.steps ?? defaultSteps(sampler));
    const { steps: _stored, ...storedRest } = storedSchedule(sampler) ?? { steps: 0 };
    const schedule: SamplerSchedule = { ...storedRest, ...(options.schedule ?? {}), steps };
    const weight = guided ? (typeof guidance === "number" ? guidance : (recommended?.guidance?.weight ?? 1)) : undefined;
    return { sampler, steps, schedule, nfe: networks * samplerNfe(sampler, schedule), guidance: weight };
  };

  const sample = async (options: PretrainedSampleOptions): Promise<tf.Tensor4D> => {
    const fn = "pipeline.sample";
    if (disposed) throw new Error(`${fn}: the pipeline was disposed.`);
    if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object { n, seed?, sampler?, steps?, nfe? }, got ${options === null ? "null" : typeof options}.`);
    const { n, seed = 0, batch = 100, onProgress, signal } = options;
    const int = integerCheck(fn);
    int(n, "n", 1);
    if (typeof seed !== "number" || !Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${JSON.stringify(seed) ?? String(seed)}.`);
    int(batch, "batch", 1);
    if (onProgress !== undefined && typeof onProgress !== "function") throw new Error(`${fn}: onProgress must be a function, got ${typeof onProgress}.`);
    const { sampler, schedule, guidance: weight } = planOf(options, fn);
    const guided = weight !== undefined;
    // Network evaluations per denoiser evaluation: both networks run when guided, and nfe budgets count both.
    const perEvaluation = guided ? 2 : 1;
    const solverDenoiser = guided && guideDenoiser ? autoguidance(denoiser ?? toDenoiser(model, sde), guideDenoiser, weight) : denoiser;
    const parts: tf.Tensor[] = [];
    try {
      // The batches and seeds of sampleImages (@dale/training): one shared loop, so both give the same pixels.
      const batches = sampleBatches(sampler, {
        score,
        ...(solverDenoiser ? { denoiser: solverDenoiser } : {}),
        sde,
        schedule,
        shape,
        n,
        batch,
        seed,
        ...(signal ? { signal } : {}),
        ...(onProgress
          ? {
              onEvaluation: (p: BatchProgress) => {
                // The callback runs inside the sampler's tf.tidy: keep the images, and free the state view here.
                const images = (view: () => tf.Tensor) => () => {
                  const state = view();
                  try {
                    return tf.keep(toPixels(state, transform)) as tf.Tensor4D;
                  } finally {
                    state.dispose();
                  }
                };
                onProgress({
                  nfe: perEvaluation * p.nfe,
                  totalNfe: perEvaluation * p.totalNfe,
                  done: p.done,
                  batchSize: p.batchSize,
                  total: p.total,
                  x: images(p.x),
                  ...(p.denoised ? { denoised: images(p.denoised) } : {}),
                });
              },
            }
          : {}),
      });
      for await (const { x0 } of batches) {
        parts.push(toPixels(x0, transform));
        x0.dispose();
      }
      if (parts.length === 1) return parts[0] as tf.Tensor4D;
      const all = tf.concat(parts, 0) as tf.Tensor4D;
      tf.dispose(parts);
      return all;
    } catch (err) {
      tf.dispose(parts);
      throw err;
    }
  };

  return {
    config,
    model,
    sde,
    prior: sde.prior,
    score,
    denoiser,
    manifest,
    sample,
    plan: (options: PretrainedPlanOptions = {}) => {
      if (disposed) throw new Error("pipeline.plan: the pipeline was disposed.");
      return planOf(options, "pipeline.plan");
    },
    toPixels: (x) => toPixels(x, transform),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      model.dispose();
      guide?.model.dispose();
    },
  };
}
