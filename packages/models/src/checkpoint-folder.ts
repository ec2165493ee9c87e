// Checkpoint folders in Node: saving (atomic writes, checkpoint.json last) and loading through a folder source.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeSafetensors, type RawTensor, type SafetensorsDtype } from "@dale/io";
import { syncDir, writeFileAtomic } from "@dale/io/node";
import type * as tf from "@tensorflow/tfjs-core";
import {
  CHECKPOINT_FILES,
  readCheckpointAs,
  type Checkpoint,
  type CheckpointFile,
  type CheckpointManifest,
  type CheckpointSource,
  type CheckpointState,
  type LoadCheckpointOptions,
} from "./checkpoint";
import { fromPretrained as fromPretrainedSource, type FromPretrainedOptions, type PretrainedPipeline } from "./pretrained";
import { modelVariables } from "./score-model";
import type { ScoreModel } from "./types";
import type { UNet } from "./unet";

const MANIFEST = CHECKPOINT_FILES.manifest;

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
    model: await writeAtomic(dir, CHECKPOINT_FILES.model, encodeSafetensors(await toRaw(named), { dtype, metadata: { ...metadata, kind: "model" } })),
  };
  if (state.ema) {
    const emaBytes = encodeSafetensors(await toRaw(state.ema.namedTensors()), { dtype, metadata: { ...metadata, kind: "ema" } });
    files.ema = await writeAtomic(dir, CHECKPOINT_FILES.ema, emaBytes);
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
    files.optimizer = await writeAtomic(dir, CHECKPOINT_FILES.optimizer, optBytes);
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

/**
 * A checkpoint folder as a {@link CheckpointSource}: `read(name)` reads `dir/name`, and a missing file reads as null.
 *
 * @example
 * const ckpt = await readCheckpoint(folderSource("checkpoints/mnist-gbm"));
 */
export function folderSource(dir: string): CheckpointSource {
  if (typeof dir !== "string" || dir === "") throw new Error(`folderSource: dir must be a non-empty path, got ${JSON.stringify(dir) ?? String(dir)}.`);
  return {
    location: dir,
    locate: (name) => join(dir, name),
    read: async (name) => {
      try {
        return await readFile(join(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
  };
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}. Without `options.model` it rebuilds a U-Net from the stored
 * config (`createUNet`); a model wrapped by `fromFunction` must be passed in (its config must equal the stored one).
 * Every file's size and sha256 are checked against `checkpoint.json` and every tensor's name and shape against the
 * model; a missing `checkpoint.json` means "no complete checkpoint". Each error names the file and what was expected.
 * This is `readCheckpoint(folderSource(dir))` of the main entry, with errors that say `loadCheckpoint`.
 *
 * Optimizer state: pass `options.optimizer` (e.g. a fresh Dale `adam(...)` with the same hyper-parameters) to have
 * its `setWeights` called with the saved state, renamed to the loaded model's variables; otherwise the result's
 * `optimizerWeights` holds those named tensors for the caller to set and dispose.
 *
 * @example
 * const opt = adam(2e-4);
 * const { model, ema, step } = await loadCheckpoint("runs/mnist/step-1000", { optimizer: opt });
 */
export async function loadCheckpoint<M extends ScoreModel = UNet>(dir: string, options: LoadCheckpointOptions<M> = {}): Promise<Checkpoint<M>> {
  return readCheckpointAs("loadCheckpoint", folderSource(dir), options);
}

/**
 * {@link fromPretrainedSource | fromPretrained} of the main entry, which in Node also reads folders: a path (or a
 * file: URL) is read as a checkpoint folder, or its `checkpoint/` sub-folder when that holds the checkpoint (a
 * dale-train --out folder); an http(s) URL is fetched, and a `CheckpointSource` is read as is.
 *
 * @example
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fromPretrained } from "@dale/models/node";
 * const pipe = await fromPretrained("checkpoints/mnist-gbm");
 * const images = await pipe.sample({ n: 16, seed: 0 }); // [16, 28, 28, 1] in [0, 1]
 */
export async function fromPretrained(source: string | URL | CheckpointSource, options: FromPretrainedOptions = {}): Promise<PretrainedPipeline> {
  if (source instanceof URL && source.protocol === "file:") return fromPretrainedSource(folderSource(checkpointFolder(fileURLToPath(source))), options);
  if (typeof source === "string" && !/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return fromPretrainedSource(folderSource(checkpointFolder(source)), options);
  if (typeof source === "string" && /^file:\/\//i.test(source)) return fromPretrainedSource(folderSource(checkpointFolder(fileURLToPath(source))), options);
  return fromPretrainedSource(source, options);
}

/** The folder itself, or its `checkpoint/` when only that holds a checkpoint.json (a dale-train --out folder). */
function checkpointFolder(path: string): string {
  if (path === "") throw new Error("fromPretrained: source must be a non-empty path or URL, got an empty string.");
  if (!existsSync(join(path, MANIFEST)) && existsSync(join(path, "checkpoint", MANIFEST))) return join(path, "checkpoint");
  return path;
}
