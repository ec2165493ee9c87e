/**
 * Reads PyTorch state dicts (`torch.save(model.state_dict(), path)`) without Python and without running code.
 *
 * Two containers exist:
 *
 *     zip (torch >= 1.6):  <name>/data.pkl      the object pickle; storages are persistent ids
 *                          <name>/data/<key>    raw little-endian bytes of storage <key>
 *                          <name>/version, <name>/byteorder (newer), ...
 *     legacy (before 1.6, or _use_new_zipfile_serialization=False), one stream:
 *                          pickle(magic 0x1950a86a20f9469cfc6c) pickle(1001) pickle(sys_info)
 *                          pickle(object) pickle(sorted storage keys)
 *                          then per key: int64 element count, raw little-endian elements
 *
 * Both describe each tensor as `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`; the object pickle
 * goes through the restricted interpreter of `./pickle`, so a file that names any other global is refused.
 */
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { DTYPE_BYTES, decodeElements, emptyData, type TorchDtype, type TorchTensorData } from "./dtypes";
import { PickleDict, PickleGlobal, PickleTuple, StorageRef, TensorRef, describe, unpickle, type PickleValue } from "./pickle";

/** One tensor of a state dict: its dtype, shape and row-major values (see `TorchTensorData`). */
export interface TorchTensor {
  readonly dtype: TorchDtype;
  readonly shape: readonly number[];
  readonly data: TorchTensorData;
}

/** A value of a state dict that is not a tensor (a checkpoint's epoch, a config string, ...). */
export type TorchPlainValue = null | boolean | number | bigint | string | Uint8Array;

/** What `readTorchStateDict` returns. */
export interface TorchStateDict {
  /** Tensors by key, in file order. Nested dicts and lists are flattened with "." (`{ model: { w } }` -> `model.w`). */
  readonly tensors: Map<string, TorchTensor>;
  /** The non-tensor leaves, keyed like `tensors`. */
  readonly values: Map<string, TorchPlainValue>;
  /** `state_dict._metadata`: module prefix -> `{ version: 1, ... }`, as nn.Module.state_dict() records it. */
  readonly metadata: Map<string, Record<string, TorchPlainValue>>;
  /** Which container the file used. */
  readonly format: "zip" | "legacy";
}

export interface ReadTorchOptions {
  /** Names the data in error messages (a path, say). Default "state dict". */
  source?: string;
}

/** Largest tensor, in elements, that the reader builds (a stride-0 tensor could otherwise ask for any size). */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const FN = "readTorchStateDict";

/**
 * Parses a PyTorch state dict from the bytes of a `.pth` / `.pt` file, zip or legacy.
 *
 * Only what a dict of tensors needs is interpreted (see `unpickle`); anything else, such as a GLOBAL of `os.system`,
 * throws an `UnsafePickleError` before any of it is used. Truncated or corrupt files throw an Error that says where.
 *
 * @example
 * const sd = readTorchStateDict(readFileSync("pt_inception-2015-12-05-6726825d.pth"));
 * sd.tensors.get("fc.weight"); // { dtype: "float32", shape: [1008, 2048], data: Float32Array(2064384) }
 */
export function readTorchStateDict(bytes: Uint8Array, options: ReadTorchOptions = {}): TorchStateDict {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${FN}: bytes must be a Uint8Array, got ${bytes === null ? "null" : typeof bytes}.`);
  const source = options.source ?? "state dict";
  // A plain view: Node Buffers (readFileSync) have a different slice() and may sit at an offset in a shared pool.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return readZip(bytes, source);
  if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === "ustar") {
    throw new Error(`${FN}: ${source} is a tar archive: the pre-0.1.10 PyTorch format, which this reader does not support. Re-save it with a recent torch (torch.save(torch.load(path), path)).`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80) return readLegacy(bytes, source);
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new Error(
    `${FN}: ${source} is not a PyTorch file: it is neither a zip archive (starts with "PK\\x03\\x04") nor a legacy pickle (starts with 0x80); its first bytes are [${head}]${bytes.length === 0 ? " (empty)" : ""}.`,
  );
}

/** Reads and parses a `.pth` file. Errors name the path. */
export function loadTorchStateDict(path: string): TorchStateDict {
  if (typeof path !== "string" || path === "") throw new Error(`loadTorchStateDict: path must be a non-empty string, got ${JSON.stringify(path)}.`);
  return readTorchStateDict(readFileSync(path), { source: path });
}

/** Any tensor's values as float32 (int64 through Number, so exact up to 2^24 like any float32). */
export function torchTensorToFloat32(tensor: TorchTensor): Float32Array {
  const { data } = tensor;
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array) return Float32Array.from(data, (v) => Number(v));
  return Float32Array.from(data);
}

function readZip(bytes: Uint8Array, source: string): TorchStateDict {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new Error(
      `${FN}: ${source} starts like a PyTorch zip file but is not a readable zip archive (${error instanceof Error ? error.message : String(error)}); it is probably truncated or corrupt: download or save it again.`,
    );
  }
  const names = Object.keys(files);
  const pickles = names.filter((n) => n === "data.pkl" || n.endsWith("/data.pkl"));
  if (pickles.length !== 1) {
    const torchscript = names.some((n) => n.endsWith("constants.pkl") || n.includes("/code/"));
    throw new Error(
      `${FN}: ${source} is a zip archive with ${pickles.length === 0 ? "no data.pkl" : `${pickles.length} data.pkl entries`}${
        torchscript ? " (it looks like a TorchScript archive from torch.jit.save; save the state dict with torch.save(model.state_dict(), path) instead)" : ""
      }; entries: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", ..." : ""}.`,
    );
  }
  const pklName = pickles[0] as string;
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder !== undefined && new TextDecoder().decode(byteorder).trim() !== "little") {
    throw new Error(`${FN}: ${source} was written on a big-endian machine (${prefix}byteorder), which this reader does not support.`);
  }
  const { value } = unpickle(files[pklName] as Uint8Array, 0, `${FN}: ${source} (${pklName})`);
  const storage = (ref: StorageRef): Uint8Array => {
    const entry = `${prefix}data/${ref.key}`;
    const raw = files[entry];
    if (raw === undefined) throw new Error(`${FN}: ${source} has no entry ${entry}, which the pickle names as a storage; the file is corrupt.`);
    checkStorageBytes(raw, ref, `${source} (${entry})`);
    return raw;
  };
  return build(value, storage, source, "zip");
}

function readLegacy(bytes: Uint8Array, source: string): TorchStateDict {
  const where = `${FN}: ${source}`;
  const magic = unpickle(bytes, 0, `${where} (magic number)`);
  if (magic.value !== LEGACY_MAGIC) {
    throw new Error(`${where} is not a PyTorch file: it starts with a pickle of ${describe(magic.value)} ${String(magic.value).slice(0, 40)}, not PyTorch's magic number.`);
  }
  const protocol = unpickle(bytes, magic.end, `${where} (protocol version)`);
  if (protocol.value !== LEGACY_PROTOCOL) throw new Error(`${where}: legacy protocol version ${String(protocol.value)} is not supported (expected ${LEGACY_PROTOCOL}).`);
  const sysInfo = unpickle(bytes, protocol.end, `${where} (sys info)`);
  if (sysInfo.value instanceof PickleDict && sysInfo.value.entries.get("little_endian") === false) {
    throw new Error(`${where} was written on a big-endian machine, which this reader does not support.`);
  }
  const object = unpickle(bytes, sysInfo.end, `${where} (object pickle)`);
  const keyList = unpickle(bytes, object.end, `${where} (storage key list)`);
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === "string")) {
    throw new Error(`${where}: the storage key list is a ${describe(keyList.value)}, not a list of strings; the file is corrupt.`);
  }
  // Every storage the object pickle names, by key: the data follows in key-list order, each with its element count.
  const refs = new Map<string, StorageRef>();
  collectStorages(object.value, refs, source);
  const raw = new Map<string, Uint8Array>();
  let pos = keyList.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keyList.value as string[]) {
    const ref = refs.get(key);
    if (ref === undefined) throw new Error(`${where}: storage ${key} is in the key list but no tensor uses it, so its element size is unknown; the file is corrupt.`);
    if (pos + 8 > bytes.length) throw new Error(`${where}: truncated: storage ${key} should start at byte ${pos} but the file ends at byte ${bytes.length}.`);
    const numel = view.getBigInt64(pos, true);
    if (numel !== BigInt(ref.numel)) {
      throw new Error(`${where}: storage ${key} at byte ${pos} holds ${numel} elements but the pickle declares ${ref.numel}; the file is corrupt.`);
    }
    const nbytes = ref.numel * DTYPE_BYTES[ref.dtype];
    pos += 8;
    if (pos + nbytes > bytes.length) {
      throw new Error(`${where}: truncated: storage ${key} needs bytes ${pos}..${pos + nbytes} but the file ends at byte ${bytes.length}.`);
    }
    raw.set(key, bytes.subarray(pos, pos + nbytes));
    pos += nbytes;
  }
  const storage = (ref: StorageRef): Uint8Array => {
    const data = raw.get(ref.key);
    if (data === undefined) throw new Error(`${where}: storage ${ref.key} is used by a tensor but missing from the storage key list; the file is corrupt.`);
    checkStorageBytes(data, ref, `${source} (storage ${ref.key})`);
    return data;
  };
  return build(object.value, storage, source, "legacy");
}

function checkStorageBytes(raw: Uint8Array, ref: StorageRef, where: string): void {
  const need = ref.numel * DTYPE_BYTES[ref.dtype];
  if (raw.length < need) {
    throw new Error(`${FN}: ${where} holds ${raw.length} bytes but is declared as ${ref.numel} ${ref.dtype} elements (${need} bytes); the file is truncated or corrupt.`);
  }
}

/** Walks the object tree for storage references (legacy files need their element sizes before reading the data). */
function collectStorages(root: PickleValue, out: Map<string, StorageRef>, source: string): void {
  const seen = new Set<object>();
  const todo: PickleValue[] = [root];
  while (todo.length > 0) {
    const v = todo.pop() as PickleValue;
    if (v === null || typeof v !== "object" || v instanceof Uint8Array || v instanceof PickleGlobal || seen.has(v)) continue;
    seen.add(v);
    const ref = v instanceof TensorRef ? v.storage : v instanceof StorageRef ? v : undefined;
    if (ref !== undefined) {
      const prev = out.get(ref.key);
      if (prev !== undefined && (DTYPE_BYTES[prev.dtype] !== DTYPE_BYTES[ref.dtype] || prev.numel !== ref.numel)) {
        throw new Error(`${FN}: ${source}: storage ${ref.key} is declared both as ${prev.numel} ${prev.dtype} and ${ref.numel} ${ref.dtype} elements; the file is corrupt.`);
      }
      if (prev === undefined) out.set(ref.key, ref);
      continue;
    }
    if (Array.isArray(v)) todo.push(...v);
    else if (v instanceof PickleTuple) todo.push(...v.items);
    else if (v instanceof PickleDict) todo.push(...v.entries.values(), ...v.attributes.values());
  }
}

/** Flattens the unpickled object into tensors, plain values and metadata. */
function build(root: PickleValue, storage: (ref: StorageRef) => Uint8Array, source: string, format: "zip" | "legacy"): TorchStateDict {
  if (!(root instanceof PickleDict)) throw new Error(`${FN}: ${source} holds a ${describe(root)}, not a dict of tensors (a state dict).`);
  const tensors = new Map<string, TorchTensor>();
  const values = new Map<string, TorchPlainValue>();
  const seen = new Set<object>();
  const visit = (key: string, v: PickleValue): void => {
    if (v instanceof TensorRef) {
      tensors.set(key, materialize(v, storage(v.storage), `${source}: tensor ${JSON.stringify(key)}`));
      return;
    }
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) {
      values.set(key, v);
      return;
    }
    if (v instanceof StorageRef || v instanceof PickleGlobal) {
      throw new Error(`${FN}: ${source}: the value at ${JSON.stringify(key)} is a bare ${describe(v)}, which a state dict does not hold.`);
    }
    if (seen.has(v)) throw new Error(`${FN}: ${source}: the container at ${JSON.stringify(key)} appears more than once (shared or cyclic); a state dict is a tree.`);
    seen.add(v);
    const prefix = key === "" ? "" : `${key}.`;
    if (v instanceof PickleDict) {
      for (const [k, item] of v.entries) {
        if (typeof k !== "string" && typeof k !== "number") throw new Error(`${FN}: ${source}: a key under ${JSON.stringify(key)} is a ${describe(k)}, not a string.`);
        visit(`${prefix}${k}`, item);
      }
      return;
    }
    const items = Array.isArray(v) ? v : v.items;
    items.forEach((item, i) => visit(`${prefix}${i}`, item));
  };
  visit("", root);
  return { tensors, values, metadata: readMetadata(root, source), format };
}

function readMetadata(root: PickleDict, source: string): Map<string, Record<string, TorchPlainValue>> {
  const out = new Map<string, Record<string, TorchPlainValue>>();
  const meta = root.attributes.get("_metadata");
  if (meta === undefined || meta === null) return out;
  if (!(meta instanceof PickleDict)) throw new Error(`${FN}: ${source}: _metadata is a ${describe(meta)}, not a dict.`);
  for (const [prefix, entry] of meta.entries) {
    if (typeof prefix !== "string" || !(entry instanceof PickleDict)) throw new Error(`${FN}: ${source}: _metadata entry ${String(prefix)} is not a {str: dict} item.`);
    const record: Record<string, TorchPlainValue> = {};
    for (const [k, v] of entry.entries) {
      if (typeof k === "string" && (v === null || typeof v !== "object" || v instanceof Uint8Array)) record[k] = v;
    }
    out.set(prefix, record);
  }
  return out;
}

/**
 * Reads one tensor out of its storage: elements `offset + sum_d i_d * stride_d` for every index `i` of `shape`, in
 * row-major order (a strided or expanded view is gathered into a contiguous array).
 */
function materialize(ref: TensorRef, raw: Uint8Array, where: string): TorchTensor {
  const { shape, stride, storage } = ref;
  const dtype = storage.dtype;
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_TENSOR_ELEMENTS) throw new Error(`${FN}: ${where} has ${n} elements; this reader builds at most ${MAX_TENSOR_ELEMENTS}.`);
  if (n === 0) return { dtype, shape: [...shape], data: emptyData(dtype, 0) };
  // Elements [offset, offset + extent) of the storage hold every element of the view.
  let extent = 1;
  for (let d = 0; d < shape.length; d++) extent += ((shape[d] as number) - 1) * (stride[d] as number);
  if (ref.offset + extent > storage.viewSize) {
    throw new Error(
      `${FN}: ${where} (shape [${shape.join(", ")}], stride [${stride.join(", ")}], offset ${ref.offset}) reaches element ${ref.offset + extent - 1} of a storage of ${storage.viewSize} elements; the file is corrupt.`,
    );
  }
  const size = DTYPE_BYTES[dtype];
  const first = storage.viewOffset + ref.offset;
  const src = decodeElements(raw.subarray(first * size, (first + extent) * size), dtype, extent);
  if (extent === n && isContiguous(shape, stride)) return { dtype, shape: [...shape], data: src };
  const out = emptyData(dtype, n);
  // Typed arrays of one element kind: copy through an index signature (numbers, or bigints for int64).
  const from = src as unknown as number[];
  const to = out as unknown as number[];
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    to[i] = from[at] as number;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      at += stride[d] as number;
      if ((index[d] as number) < (shape[d] as number)) break;
      at -= (stride[d] as number) * (shape[d] as number);
      index[d] = 0;
    }
  }
  return { dtype, shape: [...shape], data: out };
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if ((shape[d] as number) !== 1 && stride[d] !== expected) return false;
    expected *= shape[d] as number;
  }
  return true;
}
