import { createHash } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors, type RawTensor, type SafetensorsDtype } from "@dale/io";
import { syncDir, writeFileAtomic } from "@dale/io/node";
import * as tf from "@tensorflow/tfjs-core";
import { Ema } from "./ema";
import { modelVariables } from "./score-model";
import type { ModelConfig, ScoreModel } from "./types";
import { createUNet, resolveUNetConfig, unetVariableShapes, type UNet } from "./unet";

/** A tensor with a name, as `tf.Optimizer.getWeights` returns them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** The optimizer side of a checkpoint: anything with tfjs' `getWeights` / `setWeights` (Dale's `adam`, tfjs' own). */
export interface OptimizerLike {
  getWeights(): Promise<NamedTensor[]>;
  setWeights(weights: NamedTensor[]): Promise<void>;
}

/** What {@link saveCheckpoint} stores. */
export interface CheckpointState {
  model: ScoreModel;
  ema?: Ema;
  optimizer?: OptimizerLike;
  /** The training step. */
  step: number;
  /** Any JSON-serialisable data (the SDE's toJSON, data settings, a PRNG position, ...). */
  extra?: unknown;
}

/** One file of a checkpoint, as checkpoint.json lists it. */
export interface CheckpointFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** The contents of checkpoint.json. */
export interface CheckpointManifest {
  format: "dale-checkpoint";
  version: 1;
  config: ModelConfig;
  step: number;
  dtype: SafetensorsDtype;
  emaDecay?: number;
  files: { model: CheckpointFile; ema?: CheckpointFile; optimizer?: CheckpointFile };
  extra?: unknown;
  savedAt: string;
}

/** A loaded checkpoint. */
export interface Checkpoint<M extends ScoreModel = ScoreModel> {
  model: M;
  /** The EMA over `model`'s variables, holding the saved averages (when the checkpoint has one). */
  ema?: Ema;
  /**
   * The optimizer state, renamed to `model`'s variables, ready for `optimizer.setWeights(...)`; present when the
   * checkpoint has one and no `optimizer` was passed to {@link loadCheckpoint}. The caller owns (disposes) the tensors.
   */
  optimizerWeights?: NamedTensor[];
  step: number;
  extra?: unknown;
  manifest: CheckpointManifest;
}

const MANIFEST = "checkpoint.json";
const FILES = { model: "model.safetensors", ema: "ema.safetensors", optimizer: "optimizer.safetensors" } as const;

/**
 * A config in the form used to compare a given model with a stored one: a U-Net config with its defaults filled in,
 * so that a checkpoint written before a field existed (`input`, say) still matches a model built today with that
 * field at its default; any other config with its keys sorted, so that key order never matters.
 */
function comparableConfig(config: ModelConfig): unknown {
  if (config.kind === "unet") {
    try {
      return resolveUNetConfig(config as Parameters<typeof resolveUNetConfig>[0]);
    } catch {
      return config;
    }
  }
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]))
        : v;
  return sortKeys(config);
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes one file of a checkpoint atomically (see `writeFileAtomic`) and describes it for the manifest. */
async function writeAtomic(dir: string, name: string, bytes: Uint8Array): Promise<CheckpointFile> {
  await writeFileAtomic(join(dir, name), bytes);
  return { path: name, bytes: bytes.length, sha256: sha256(bytes) };
}

async function toRaw(tensors: Record<string, tf.Tensor>): Promise<[string, RawTensor][]> {
  const out: [string, RawTensor][] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const values = await t.data();
    out.push([name, { data: values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>), shape: [...t.shape] }]);
  }
  return out;
}

/**
 * Saves a checkpoint into `dir` (created if needed):
 *
 * 1. removes `checkpoint.json`, so that the folder reads as incomplete while it is rewritten;
 * 2. writes `model.safetensors` (the model's named variables, `dtype` F32 or F16), `ema.safetensors` (when `ema` is
 *    given, same dtype) and `optimizer.safetensors` (`await optimizer.getWeights()`, always F32, with each weight
 *    renamed from the tfjs variable name to the model's stable name, e.g. `down.0.res.0.conv1.w/m`);
 * 3. writes `checkpoint.json` (config, step, dtype, every file's byte count and sha256, `extra`) last.
 *
 * Every file goes through a temporary file in the same folder, fsync and rename, so a checkpoint is complete exactly
 * when its `checkpoint.json` exists.
 *
 * @example
 * await saveCheckpoint("runs/mnist/step-1000", { model, ema, optimizer, step: 1000 }, { dtype: "F32" });
 */
export async function saveCheckpoint(
  dir: string,
  state: CheckpointState,
  options: { dtype?: SafetensorsDtype } = {},
): Promise<CheckpointManifest> {
  const dtype = options.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "F16") throw new Error(`saveCheckpoint: dtype must be "F32" or "F16", got ${String(dtype)}.`);
  if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`saveCheckpoint: step must be a non-negative integer, got ${state.step}.`);
  const named = modelVariables(state.model);
  await mkdir(dir, { recursive: true });
  await rm(join(dir, MANIFEST), { force: true });
  await syncDir(dir);

  const metadata = { format: "dale", kind: "" };
  const files: CheckpointManifest["files"] = {
    model: await writeAtomic(dir, FILES.model, encodeSafetensors(await toRaw(named), { dtype, metadata: { ...metadata, kind: "model" } })),
  };
  if (state.ema) {
    const emaBytes = encodeSafetensors(await toRaw(state.ema.namedTensors()), { dtype, metadata: { ...metadata, kind: "ema" } });
    files.ema = await writeAtomic(dir, FILES.ema, emaBytes);
  }
  if (state.optimizer) {
    const weights = await state.optimizer.getWeights();
    const keyOf = new Map(Object.entries(named).map(([key, v]) => [v.name, key]));
    const mapped: string[] = [];
    const renamed: Record<string, tf.Tensor> = {};
    for (const { name, tensor } of weights) {
      const cut = name.lastIndexOf("/");
      const key = cut > 0 ? keyOf.get(name.slice(0, cut)) : undefined;
      const stored = key === undefined ? name : `${key}${name.slice(cut)}`;
      if (key !== undefined) mapped.push(stored);
      if (stored in renamed) throw new Error(`saveCheckpoint: two optimizer weights map to "${stored}".`);
      renamed[stored] = tensor;
    }
    const raw = await toRaw(renamed);
    // tfjs' saveIterations makes the "iter" scalar afresh on every getWeights; the other weights are the optimizer's.
    for (const w of weights) if (w.name === "iter") w.tensor.dispose();
    const optBytes = encodeSafetensors(raw, {
      dtype: "F32",
      metadata: { ...metadata, kind: "optimizer", order: JSON.stringify(raw.map(([n]) => n)), mapped: JSON.stringify(mapped) },
    });
    files.optimizer = await writeAtomic(dir, FILES.optimizer, optBytes);
  }
  const manifest: CheckpointManifest = {
    format: "dale-checkpoint",
    version: 1,
    config: state.model.config,
    step: state.step,
    dtype,
    ...(state.ema ? { emaDecay: state.ema.decay } : {}),
    files,
    ...(state.extra !== undefined ? { extra: state.extra } : {}),
    savedAt: new Date().toISOString(),
  };
  await writeAtomic(dir, MANIFEST, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}

/** Reads a checkpoint file and checks its size and sha256 against the manifest. */
async function readChecked(dir: string, entry: CheckpointFile | undefined, expectedName: string): Promise<Uint8Array> {
  const path = join(dir, expectedName);
  if (entry === undefined || typeof entry.sha256 !== "string" || typeof entry.bytes !== "number") {
    throw new Error(`loadCheckpoint: ${join(dir, MANIFEST)} lists no valid entry for ${expectedName}.`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`loadCheckpoint: ${path} is missing, but ${MANIFEST} lists it (${entry.bytes} bytes, sha256 ${entry.sha256}).`);
    }
    throw err;
  }
  if (bytes.length !== entry.bytes) {
    throw new Error(`loadCheckpoint: ${path} is ${bytes.length < entry.bytes ? "truncated" : "too long"}: expected ${entry.bytes} bytes, found ${bytes.length}.`);
  }
  const actual = sha256(bytes);
  if (actual !== entry.sha256) throw new Error(`loadCheckpoint: ${path} is corrupt: sha256 mismatch, expected ${entry.sha256}, got ${actual}.`);
  return bytes;
}

/** Decodes a safetensors file whose tensors must be exactly `expected`'s names and shapes. */
function checkedTensors(bytes: Uint8Array, path: string, expected: Record<string, readonly number[]>): Record<string, RawTensor> {
  const file = decodeSafetensors(bytes, path);
  const out: Record<string, RawTensor> = {};
  for (const [name, shape] of Object.entries(expected)) {
    const t = file.tensors.get(name);
    if (t === undefined) throw new Error(`loadCheckpoint: ${path} has no tensor "${name}" (expected shape [${shape}]).`);
    if (!tf.util.arraysEqual(t.shape, [...shape])) {
      throw new Error(`loadCheckpoint: ${path}: tensor "${name}" has shape [${t.shape}], expected [${shape}] from the model config.`);
    }
    out[name] = t;
  }
  const extra = [...file.tensors.keys()].filter((n) => !(n in expected));
  if (extra.length > 0) throw new Error(`loadCheckpoint: ${path} has tensors the model does not: ${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", ..." : ""}.`);
  return out;
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}. Without `options.model` it rebuilds a U-Net from the stored
 * config (`createUNet`); a model wrapped by `fromFunction` must be passed in (its config must equal the stored one).
 * Every file's size and sha256 are checked against `checkpoint.json` and every tensor's name and shape against the
 * model; a missing `checkpoint.json` means "no complete checkpoint". Each error names the file and what was expected.
 *
 * Optimizer state: pass `options.optimizer` (e.g. a fresh Dale `adam(...)` with the same hyper-parameters) to have
 * its `setWeights` called with the saved state, renamed to the loaded model's variables; otherwise the result's
 * `optimizerWeights` holds those named tensors for the caller to set and dispose.
 *
 * @example
 * const opt = adam(2e-4);
 * const { model, ema, step } = await loadCheckpoint("runs/mnist/step-1000", { optimizer: opt });
 */
export async function loadCheckpoint<M extends ScoreModel = UNet>(
  dir: string,
  options: { model?: M; optimizer?: OptimizerLike } = {},
): Promise<Checkpoint<M>> {
  const manifestPath = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(manifestPath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        `loadCheckpoint: no complete checkpoint in ${dir}: ${MANIFEST} is missing (it is written last, so a save there was interrupted or never made).`,
      );
    }
    throw err;
  }
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(text) as CheckpointManifest;
  } catch (err) {
    throw new Error(`loadCheckpoint: ${manifestPath} is not valid JSON (${(err as Error).message}).`);
  }
  if (manifest.format !== "dale-checkpoint" || manifest.version !== 1) {
    throw new Error(`loadCheckpoint: ${manifestPath} is not a version-1 Dale checkpoint (format ${String(manifest.format)}, version ${String(manifest.version)}).`);
  }
  const modelBytes = await readChecked(dir, manifest.files?.model, FILES.model);
  const emaBytes = manifest.files.ema ? await readChecked(dir, manifest.files.ema, FILES.ema) : undefined;
  const optBytes = manifest.files.optimizer ? await readChecked(dir, manifest.files.optimizer, FILES.optimizer) : undefined;

  let model: M;
  const created = options.model === undefined;
  if (options.model !== undefined) {
    if (JSON.stringify(comparableConfig(options.model.config)) !== JSON.stringify(comparableConfig(manifest.config))) {
      throw new Error(`loadCheckpoint: the given model's config ${JSON.stringify(options.model.config)} differs from the stored ${JSON.stringify(manifest.config)}.`);
    }
    model = options.model;
  } else if (manifest.config.kind === "unet") {
    // Shapes before allocation: the stored config's weights are compared with the file's tensor headers before a
    // network is built from it, so an edited config (say ch 512) is an error in milliseconds, not gigabytes later.
    let shapes: Record<string, number[]>;
    try {
      shapes = unetVariableShapes(manifest.config);
    } catch (err) {
      throw new Error(`loadCheckpoint: ${manifestPath}: its model config is not a valid U-Net config (${(err as Error).message}).`);
    }
    checkedTensors(modelBytes, join(dir, FILES.model), shapes);
    model = createUNet(manifest.config) as unknown as M;
  } else {
    throw new Error(`loadCheckpoint: the stored model is a "${manifest.config.kind}" model, which cannot be rebuilt from its config; pass it as options.model.`);
  }
  let ema: Ema | undefined;
  try {
    const named = modelVariables(model);
    const shapes = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, v.shape]));
    const weights = checkedTensors(modelBytes, join(dir, FILES.model), shapes);
    const emaWeights = emaBytes ? checkedTensors(emaBytes, join(dir, FILES.ema), shapes) : undefined;
    tf.tidy(() => {
      for (const [k, v] of Object.entries(named)) {
        const w = weights[k] as RawTensor;
        v.assign(tf.tensor(w.data, w.shape, "float32"));
      }
    });
    if (emaWeights) {
      ema = new Ema(named, manifest.emaDecay ?? 0.9999);
      const tensors = Object.fromEntries(Object.entries(emaWeights).map(([k, w]) => [k, tf.tensor(w.data, w.shape, "float32")]));
      ema.setNamedTensors(tensors);
      tf.dispose(Object.values(tensors));
    }
    let optimizerWeights: NamedTensor[] | undefined;
    if (optBytes) {
      const path = join(dir, FILES.optimizer);
      const file = decodeSafetensors(optBytes, path);
      const mapped = new Set<string>(JSON.parse(file.metadata.mapped ?? "[]") as string[]);
      const list: NamedTensor[] = [];
      for (const [stored, raw] of file.tensors) {
        let name = stored;
        if (mapped.has(stored)) {
          const cut = stored.lastIndexOf("/");
          const v = named[stored.slice(0, cut)];
          if (v === undefined) throw new Error(`loadCheckpoint: ${path}: optimizer weight "${stored}" refers to no variable of the model.`);
          if (!tf.util.arraysEqual(raw.shape, v.shape)) {
            throw new Error(`loadCheckpoint: ${path}: optimizer weight "${stored}" has shape [${raw.shape}], expected [${v.shape}].`);
          }
          name = `${v.name}${stored.slice(cut)}`;
        }
        list.push({ name, tensor: tf.tensor(raw.data, raw.shape, "float32") });
      }
      if (options.optimizer) {
        try {
          await options.optimizer.setWeights(list);
        } finally {
          tf.dispose(list.map((w) => w.tensor));
        }
      } else optimizerWeights = list;
    }
    return {
      model,
      ...(ema ? { ema } : {}),
      ...(optimizerWeights ? { optimizerWeights } : {}),
      step: manifest.step,
      ...(manifest.extra !== undefined ? { extra: manifest.extra } : {}),
      manifest,
    };
  } catch (err) {
    ema?.dispose();
    if (created) tf.dispose(model.variables);
    throw err;
  }
}
