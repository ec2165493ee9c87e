// Checkpoints as bytes: the manifest, the checks of every file against it and the restore of a model from safetensors
// bytes. No file system here (the main entry bundles for a browser): a `CheckpointSource` hands the files over, from
// a folder (`folderSource` of @dale/models/node), a URL (`urlSource`) or memory (`checkpointFromFiles`).
import { sha256 as nobleSha256 } from "@noble/hashes/sha2";
import { decodeSafetensors, type RawTensor, type SafetensorsDtype } from "@dale/io";
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

/** What `saveCheckpoint` of @dale/models/node stores. */
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
   * checkpoint has one and no `optimizer` was passed in. The caller owns (disposes) the tensors.
   */
  optimizerWeights?: NamedTensor[];
  step: number;
  extra?: unknown;
  manifest: CheckpointManifest;
}

/** Options of {@link readCheckpoint}, {@link checkpointFromFiles} and `loadCheckpoint` of @dale/models/node. */
export interface LoadCheckpointOptions<M extends ScoreModel = UNet> {
  /** The model to load into (required for a `fromFunction` model; its config must equal the stored one). */
  model?: M;
  /** An optimizer whose `setWeights` receives the saved state (e.g. a fresh Dale `adam(...)`). */
  optimizer?: OptimizerLike;
}

/**
 * Where the files of a checkpoint come from: a folder (`folderSource` of @dale/models/node), a URL ({@link urlSource})
 * or anything else that can hand over bytes by file name.
 */
export interface CheckpointSource {
  /** Where the checkpoint is, for messages: a folder or a base URL. */
  readonly location: string;
  /** The bytes of the file `name` (e.g. "checkpoint.json"), or null when there is none (no such file, HTTP 404). Other failures throw. */
  read(name: string): Promise<Uint8Array | null>;
  /** How messages name the file `name`: its path or URL. Default `${location}/${name}`. */
  locate?(name: string): string;
}

/** The file names of a checkpoint folder. */
export const CHECKPOINT_FILES = {
  manifest: "checkpoint.json",
  model: "model.safetensors",
  ema: "ema.safetensors",
  optimizer: "optimizer.safetensors",
} as const;

const MANIFEST = CHECKPOINT_FILES.manifest;

/** How messages name `name` of `source`. */
export function locate(source: CheckpointSource, name: string): string {
  return source.locate ? source.locate(name) : `${source.location.replace(/\/+$/, "")}/${name}`;
}

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

/**
 * The SHA-256 of `bytes` as lowercase hex: by WebCrypto (`crypto.subtle.digest`, global in Node 20 and in browsers)
 * where it exists, else by `@noble/hashes` (audited, dependency-free JavaScript). Browsers offer `crypto.subtle` on
 * secure pages only (https: and localhost), so a page served over plain http on a LAN address still checks its files.
 */
export async function sha256Hex(bytes: Uint8Array, fn = "sha256Hex"): Promise<string> {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${fn}: bytes must be a Uint8Array, got ${typeof bytes}.`);
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  // digest takes ArrayBuffer-backed views; the bytes come from fetch, readFile or the caller, never a shared buffer.
  const digest = subtle !== undefined ? new Uint8Array(await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)) : nobleSha256(bytes);
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** Reads `name` from `source`, wrapping a failure other than "no such file" in a named error. */
async function readFrom(fn: string, source: CheckpointSource, name: string): Promise<Uint8Array | null> {
  try {
    return await source.read(name);
  } catch (err) {
    throw new Error(`${fn}: cannot read ${locate(source, name)} (${err instanceof Error ? err.message : String(err)}).`);
  }
}

/**
 * Parses and checks checkpoint.json: a JSON object of format "dale-checkpoint", version 1, with a model config and a
 * file list. `where` names the file in errors, `fn` the function.
 */
export function parseCheckpointManifest(text: string, where: string = MANIFEST, fn = "parseCheckpointManifest"): CheckpointManifest {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fn}: ${where} is not valid JSON (${(err as Error).message}).`);
  }
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
    throw new Error(`${fn}: ${where} must hold a JSON object, got ${manifest === null ? "null" : Array.isArray(manifest) ? "an array" : typeof manifest}.`);
  }
  const m = manifest as Partial<CheckpointManifest>;
  if (m.format !== "dale-checkpoint" || m.version !== 1) {
    throw new Error(`${fn}: ${where} is not a version-1 Dale checkpoint (format ${String(m.format)}, version ${String(m.version)}).`);
  }
  const config = m.config as unknown;
  if (config === null || typeof config !== "object" || Array.isArray(config) || typeof (config as { kind?: unknown }).kind !== "string") {
    throw new Error(`${fn}: ${where} has no model config (an object with a string "kind"), got ${JSON.stringify(config) ?? String(config)}.`);
  }
  if (m.files === null || typeof m.files !== "object" || Array.isArray(m.files)) {
    throw new Error(`${fn}: ${where} has no file list ("files": { model, ema?, optimizer? }).`);
  }
  return m as CheckpointManifest;
}

/** Reads checkpoint.json from `source`; its absence means "no complete checkpoint there". */
export async function readManifest(source: CheckpointSource, fn = "readManifest"): Promise<CheckpointManifest> {
  const bytes = await readFrom(fn, source, MANIFEST);
  if (bytes === null) {
    throw new Error(
      `${fn}: no complete checkpoint in ${source.location}: ${MANIFEST} is missing (it is written last, so a save there was interrupted or never made).`,
    );
  }
  return parseCheckpointManifest(new TextDecoder().decode(bytes), locate(source, MANIFEST), fn);
}

/** Reads one file of a checkpoint and checks its size and sha256 against the manifest's entry. */
async function readChecked(fn: string, source: CheckpointSource, entry: CheckpointFile | undefined, name: string): Promise<Uint8Array> {
  const path = locate(source, name);
  if (entry === null || typeof entry !== "object" || typeof entry.sha256 !== "string" || typeof entry.bytes !== "number") {
    throw new Error(`${fn}: ${locate(source, MANIFEST)} lists no valid entry for ${name}.`);
  }
  const bytes = await readFrom(fn, source, name);
  if (bytes === null) throw new Error(`${fn}: ${path} is missing, but ${MANIFEST} lists it (${entry.bytes} bytes, sha256 ${entry.sha256}).`);
  if (bytes.length !== entry.bytes) {
    throw new Error(`${fn}: ${path} is ${bytes.length < entry.bytes ? "truncated" : "too long"}: expected ${entry.bytes} bytes, found ${bytes.length}.`);
  }
  const actual = await sha256Hex(bytes, fn);
  if (actual !== entry.sha256) throw new Error(`${fn}: ${path} is corrupt: sha256 mismatch, expected ${entry.sha256}, got ${actual}.`);
  return bytes;
}

/** Decodes a safetensors file whose tensors must be exactly `expected`'s names and shapes. */
function checkedTensors(fn: string, bytes: Uint8Array, path: string, expected: Record<string, readonly number[]>): Record<string, RawTensor> {
  const file = decodeSafetensors(bytes, path);
  const out: Record<string, RawTensor> = {};
  for (const [name, shape] of Object.entries(expected)) {
    const t = file.tensors.get(name);
    if (t === undefined) throw new Error(`${fn}: ${path} has no tensor "${name}" (expected shape [${shape}]).`);
    if (!tf.util.arraysEqual(t.shape, [...shape])) {
      throw new Error(`${fn}: ${path}: tensor "${name}" has shape [${t.shape}], expected [${shape}] from the model config.`);
    }
    out[name] = t;
  }
  const extra = [...file.tensors.keys()].filter((n) => !(n in expected));
  if (extra.length > 0) throw new Error(`${fn}: ${path} has tensors the model does not: ${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", ..." : ""}.`);
  return out;
}

/** What {@link restoreCheckpoint} reads: which file's weights go into the variables, and whether the EMA and optimizer come too. */
export interface RestoreParts {
  /** The file whose tensors become the model's variables: "model" (the trained weights) or "ema" (the averages). Default "model". */
  weights?: "model" | "ema";
  /** Read the EMA into an `Ema` (when the checkpoint has one). Default true; ignored with `weights: "ema"`. */
  ema?: boolean;
  /** Read the optimizer state (when the checkpoint has one). Default true. */
  optimizer?: boolean;
}

/**
 * Restores a checkpoint from `source` given its parsed manifest: reads and checks the files `parts` asks for, builds a
 * U-Net from the stored config (or loads into `options.model`) after checking the weight file's tensor headers
 * against the config, and assigns the weights. `fn` names the caller in errors. The building block of
 * {@link readCheckpoint}, `loadCheckpoint` of @dale/models/node and {@link fromPretrained}.
 */
export async function restoreCheckpoint<M extends ScoreModel = UNet>(
  source: CheckpointSource,
  manifest: CheckpointManifest,
  options: LoadCheckpointOptions<M> & { parts?: RestoreParts; fn?: string } = {},
): Promise<Checkpoint<M>> {
  const fn = options.fn ?? "restoreCheckpoint";
  const parts = options.parts ?? {};
  const weightsFrom = parts.weights ?? "model";
  const weightsName = CHECKPOINT_FILES[weightsFrom];
  const weightsEntry = weightsFrom === "ema" ? manifest.files.ema : manifest.files.model;
  if (weightsFrom === "ema" && weightsEntry === undefined) throw new Error(`${fn}: ${locate(source, MANIFEST)} lists no EMA weights (${CHECKPOINT_FILES.ema}).`);
  const weightsBytes = await readChecked(fn, source, weightsEntry, weightsName);
  const readEma = weightsFrom === "model" && parts.ema !== false && manifest.files.ema;
  const emaBytes = readEma ? await readChecked(fn, source, manifest.files.ema, CHECKPOINT_FILES.ema) : undefined;
  const readOpt = parts.optimizer !== false && manifest.files.optimizer;
  const optBytes = readOpt ? await readChecked(fn, source, manifest.files.optimizer, CHECKPOINT_FILES.optimizer) : undefined;

  let model: M;
  const created = options.model === undefined;
  if (options.model !== undefined) {
    if (JSON.stringify(comparableConfig(options.model.config)) !== JSON.stringify(comparableConfig(manifest.config))) {
      throw new Error(`${fn}: the given model's config ${JSON.stringify(options.model.config)} differs from the stored ${JSON.stringify(manifest.config)}.`);
    }
    model = options.model;
  } else if (manifest.config.kind === "unet") {
    // Shapes before allocation: the stored config's weights are compared with the file's tensor headers before a
    // network is built from it, so an edited config (say ch 512) is an error in milliseconds, not gigabytes later.
    let shapes: Record<string, number[]>;
    try {
      shapes = unetVariableShapes(manifest.config);
    } catch (err) {
      throw new Error(`${fn}: ${locate(source, MANIFEST)}: its model config is not a valid U-Net config (${(err as Error).message}).`);
    }
    checkedTensors(fn, weightsBytes, locate(source, weightsName), shapes);
    model = createUNet(manifest.config) as unknown as M;
  } else {
    throw new Error(`${fn}: the stored model is a "${manifest.config.kind}" model, which cannot be rebuilt from its config; pass it as options.model.`);
  }
  let ema: Ema | undefined;
  try {
    const named = modelVariables(model);
    const shapes = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, v.shape]));
    const weights = checkedTensors(fn, weightsBytes, locate(source, weightsName), shapes);
    const emaWeights = emaBytes ? checkedTensors(fn, emaBytes, locate(source, CHECKPOINT_FILES.ema), shapes) : undefined;
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
      const path = locate(source, CHECKPOINT_FILES.optimizer);
      const file = decodeSafetensors(optBytes, path);
      const mapped = new Set<string>(JSON.parse(file.metadata.mapped ?? "[]") as string[]);
      const list: NamedTensor[] = [];
      for (const [stored, raw] of file.tensors) {
        let name = stored;
        if (mapped.has(stored)) {
          const cut = stored.lastIndexOf("/");
          const v = named[stored.slice(0, cut)];
          if (v === undefined) throw new Error(`${fn}: ${path}: optimizer weight "${stored}" refers to no variable of the model.`);
          if (!tf.util.arraysEqual(raw.shape, v.shape)) {
            throw new Error(`${fn}: ${path}: optimizer weight "${stored}" has shape [${raw.shape}], expected [${v.shape}].`);
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

/**
 * Loads a checkpoint from any {@link CheckpointSource}: checkpoint.json first (its absence means "no complete
 * checkpoint"), then every file it lists, each checked for size and sha256 (WebCrypto), every tensor's name and shape
 * checked against the model. Without `options.model` a U-Net is rebuilt from the stored config; a `fromFunction` model
 * must be passed in. Optimizer state goes to `options.optimizer.setWeights`, or comes back as `optimizerWeights`.
 * In Node, `loadCheckpoint(dir)` of @dale/models/node reads a folder the same way.
 *
 * @example
 * const { model, ema } = await readCheckpoint(urlSource("https://example.org/mnist-gbm/"));
 */
export async function readCheckpoint<M extends ScoreModel = UNet>(source: CheckpointSource, options: LoadCheckpointOptions<M> = {}): Promise<Checkpoint<M>> {
  return readCheckpointAs("readCheckpoint", source, options);
}

/** {@link readCheckpoint} with errors that name `fn` (`loadCheckpoint` of @dale/models/node). */
export async function readCheckpointAs<M extends ScoreModel = UNet>(fn: string, source: CheckpointSource, options: LoadCheckpointOptions<M>): Promise<Checkpoint<M>> {
  const manifest = await readManifest(source, fn);
  return restoreCheckpoint(source, manifest, { ...options, fn });
}

/** The files of a checkpoint in memory, as {@link checkpointFromFiles} takes them. */
export interface CheckpointFiles {
  /** checkpoint.json: its text, its bytes, or the parsed object. */
  manifest: string | Uint8Array | object;
  /** The other files by name ("model.safetensors", "ema.safetensors", "optimizer.safetensors"). */
  files: Readonly<Record<string, Uint8Array>>;
}

/**
 * A checkpoint from bytes in memory (a browser's file input, a zip, a test): the same checks and restore as
 * {@link readCheckpoint}, with the files given by name. Every file the manifest lists must be among `files`.
 *
 * @example
 * const ckpt = await checkpointFromFiles({ manifest: jsonText, files: { "model.safetensors": bytes } });
 */
export async function checkpointFromFiles<M extends ScoreModel = UNet>(
  input: CheckpointFiles,
  options: LoadCheckpointOptions<M> = {},
): Promise<Checkpoint<M>> {
  const fn = "checkpointFromFiles";
  if (input === null || typeof input !== "object") throw new Error(`${fn}: input must be an object { manifest, files }, got ${input === null ? "null" : typeof input}.`);
  const { files } = input;
  if (files === null || typeof files !== "object") throw new Error(`${fn}: files must be an object of Uint8Arrays by file name, got ${files === null ? "null" : typeof files}.`);
  const raw = input.manifest;
  const manifest =
    typeof raw === "string"
      ? parseCheckpointManifest(raw, MANIFEST, fn)
      : raw instanceof Uint8Array
        ? parseCheckpointManifest(new TextDecoder().decode(raw), MANIFEST, fn)
        : parseCheckpointManifest(JSON.stringify(raw), MANIFEST, fn);
  const source: CheckpointSource = {
    location: "the given files",
    locate: (name) => name,
    read: (name) => {
      const bytes = Object.prototype.hasOwnProperty.call(files, name) ? files[name] : undefined;
      if (bytes === undefined) return Promise.resolve(null);
      if (!(bytes instanceof Uint8Array)) return Promise.reject(new Error(`files["${name}"] must be a Uint8Array, got ${typeof bytes}`));
      return Promise.resolve(bytes);
    },
  };
  return restoreCheckpoint(source, manifest, { ...options, fn });
}

/**
 * A checkpoint folder on the web: each file is fetched from `base` (a folder URL; a missing trailing "/" is added) with
 * the global `fetch`, or `options.fetch`. HTTP 404 and 410 read as a missing file; other failures are errors naming
 * the URL.
 *
 * @example
 * const ckpt = await readCheckpoint(urlSource("https://example.org/checkpoints/mnist-gbm"));
 */
export function urlSource(base: string | URL, options: { fetch?: typeof fetch } = {}): CheckpointSource {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`urlSource: base must be an absolute URL, got ${JSON.stringify(String(base))}.`);
  }
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  const get = options.fetch ?? globalThis.fetch;
  if (typeof get !== "function") throw new Error("urlSource: no fetch here; pass options.fetch.");
  const at = (name: string) => new URL(name, url).href;
  return {
    location: url.href,
    locate: at,
    read: async (name) => {
      const response = await get(at(name));
      if (response.status === 404 || response.status === 410) return null;
      if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}
