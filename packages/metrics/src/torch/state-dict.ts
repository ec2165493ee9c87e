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
import { readFileSync, statSync } from "node:fs";
import { DTYPE_BYTES, OUTPUT_BYTES, decodeElements, elementReader, emptyData, type TorchDtype, type TorchTensorData } from "./dtypes";
import { DEFAULT_MAX_DEPTH, PickleDict, PickleGlobal, PickleTuple, StorageRef, TensorRef, describe, preview, unpickle, type PickleValue } from "./pickle";
import { readZipDirectory, readZipEntry, type ZipEntry } from "./zip";

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

/**
 * Options of `readTorchStateDict` and `loadTorchStateDict`. The limits bound what a file can make the reader do, so
 * that a small hostile or corrupt file (a stride-0 view of a huge shape, a zip bomb, a pickle nested thousands of
 * levels deep) ends in an error that names the limit instead of exhausting memory or the stack. Raise them to read
 * bigger models; see `TORCH_READ_DEFAULTS`.
 */
export interface ReadTorchOptions {
  /** Names the data in error messages (a path, say). Default "state dict". */
  source?: string;
  /**
   * Most bytes the reader builds from the file, all together: compressed zip entries as inflated (charged at the sizes
   * the zip's central directory declares, before any is inflated), every tensor's array as returned (a view counts
   * what it materialises: a stride-0 tensor of shape [n, m] counts n * m elements; float16 and bfloat16 count 4 bytes
   * an element, as they widen to float32) and the flattened keys (2 bytes a character). Stored zip entries and legacy
   * files are read in place and cost nothing. Default `TORCH_READ_DEFAULTS.maxBytes` (512 MiB).
   */
  maxBytes?: number;
  /** Most bytes of any one tensor as returned (counted as for `maxBytes`). Default `TORCH_READ_DEFAULTS.maxTensorBytes` (256 MiB). */
  maxTensorBytes?: number;
  /** Deepest nesting of containers (dicts, lists, tuples) in the pickle; a dict of tensors is 1 deep. Default `TORCH_READ_DEFAULTS.maxDepth` (64). */
  maxDepth?: number;
}

/**
 * Default limits of `readTorchStateDict`: 512 MiB in all and 256 MiB for one tensor (FID's Inception weights take
 * 91 MB, their largest tensor 8 MB), and containers nested at most 64 deep (a state dict nests 1 to 5).
 */
export const TORCH_READ_DEFAULTS: Readonly<Required<Pick<ReadTorchOptions, "maxBytes" | "maxTensorBytes" | "maxDepth">>> = {
  maxBytes: 512 * 2 ** 20,
  maxTensorBytes: 256 * 2 ** 20,
  maxDepth: DEFAULT_MAX_DEPTH,
};

type Limits = Required<ReadTorchOptions>;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const FN = "readTorchStateDict";

/**
 * Parses a PyTorch state dict from the bytes of a `.pth` / `.pt` file, zip or legacy.
 *
 * Only what a dict of tensors needs is interpreted (see `unpickle`); anything else, such as a GLOBAL of `os.system`,
 * throws an `UnsafePickleError` before any of it is used. Truncated or corrupt files, and files that would take more
 * than the limits of `options` (see `ReadTorchOptions`), throw an Error that starts with "readTorchStateDict: <source>"
 * and says where and which limit.
 *
 * @example
 * const sd = readTorchStateDict(readFileSync("pt_inception-2015-12-05-6726825d.pth"));
 * sd.tensors.get("fc.weight"); // { dtype: "float32", shape: [1008, 2048], data: Float32Array(2064384) }
 */
export function readTorchStateDict(bytes: Uint8Array, options: ReadTorchOptions = {}): TorchStateDict {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${FN}: bytes must be a Uint8Array, got ${bytes === null ? "null" : typeof bytes}.`);
  const limits = checkOptions(FN, options);
  const source = limits.source;
  // A plain view: Node Buffers (readFileSync) have a different slice() and may sit at an offset in a shared pool.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return readZip(bytes, limits);
    if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === "ustar") {
      throw new Error(`${FN}: ${source} is a tar archive: the pre-0.1.10 PyTorch format, which this reader does not support. Re-save it with a recent torch (torch.save(torch.load(path), path)).`);
    }
    if (bytes.length >= 2 && bytes[0] === 0x80) return readLegacy(bytes, limits);
  } catch (error) {
    // Every deliberate error starts with the function's name; anything else is a bug here, still named for the user.
    if (error instanceof Error && error.message.startsWith(`${FN}: `)) throw error;
    throw new Error(`${FN}: ${source}: internal error (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}); please report it with the file.`, { cause: error });
  }
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new Error(
    `${FN}: ${source} is not a PyTorch file: it is neither a zip archive (starts with "PK\\x03\\x04") nor a legacy pickle (starts with 0x80); its first bytes are [${head}]${bytes.length === 0 ? " (empty)" : ""}.`,
  );
}

/** Reads and parses a `.pth` file with `readTorchStateDict`. Errors name the path. */
export function loadTorchStateDict(path: string, options: Omit<ReadTorchOptions, "source"> = {}): TorchStateDict {
  const fn = "loadTorchStateDict";
  if (typeof path !== "string" || path === "") throw new Error(`${fn}: path must be a non-empty string, got ${JSON.stringify(path)}.`);
  checkOptions(fn, options);
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new Error(`${fn}: ${path} is a directory; expected a .pth file written by torch.save.`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith(`${fn}: `)) throw error;
    throw new Error(`${fn}: cannot read ${path} (${error instanceof Error ? error.message : String(error)}); expected a readable .pth file written by torch.save.`);
  }
  return readTorchStateDict(bytes, { ...options, source: path });
}

/** Any tensor's values as float32 (int64 through Number, so exact up to 2^24 like any float32). */
export function torchTensorToFloat32(tensor: TorchTensor): Float32Array {
  const { data } = tensor;
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array) return Float32Array.from(data, (v) => Number(v));
  return Float32Array.from(data);
}

function checkOptions(fn: string, options: ReadTorchOptions): Limits {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object, got ${options === null ? "null" : typeof options}.`);
  const { source = "state dict", maxBytes = TORCH_READ_DEFAULTS.maxBytes, maxTensorBytes = TORCH_READ_DEFAULTS.maxTensorBytes, maxDepth = TORCH_READ_DEFAULTS.maxDepth } = options;
  if (typeof source !== "string") throw new Error(`${fn}: options.source must be a string, got ${typeof source}.`);
  for (const [name, v] of [
    ["maxBytes", maxBytes],
    ["maxTensorBytes", maxTensorBytes],
  ] as const) {
    if (typeof v !== "number" || !(v >= 0) || !(Number.isSafeInteger(v) || v === Infinity)) {
      throw new Error(`${fn}: options.${name} must be a non-negative integer number of bytes (or Infinity), got ${String(v)}.`);
    }
  }
  if (typeof maxDepth !== "number" || !Number.isSafeInteger(maxDepth) || maxDepth < 1) {
    throw new Error(`${fn}: options.maxDepth must be a positive integer, got ${String(maxDepth)}.`);
  }
  return { source, maxBytes, maxTensorBytes, maxDepth };
}

/** The bytes a read has built so far, against `maxBytes` and `maxTensorBytes`. */
class Budget {
  private used = 0;
  constructor(private readonly limits: Limits) {}

  /** Charges `bytes` built for `what` (e.g. `tensor "w" (...)`) against `options.maxBytes`. */
  take(bytes: number, what: string): void {
    const { maxBytes, source } = this.limits;
    if (!(this.used + bytes <= maxBytes)) {
      throw new Error(
        `${FN}: ${source}: ${what} would bring the bytes this reader builds to ${this.used + bytes}, more than options.maxBytes = ${maxBytes}; the file is corrupt or hostile, or pass a larger maxBytes.`,
      );
    }
    this.used += bytes;
  }

  /** Checks one tensor's `bytes` against `options.maxTensorBytes`, then charges them. */
  tensor(bytes: number, what: string): void {
    const { maxTensorBytes, source } = this.limits;
    if (!(bytes <= maxTensorBytes)) {
      throw new Error(`${FN}: ${source}: ${what} would take ${bytes} bytes, more than options.maxTensorBytes = ${maxTensorBytes}; the file is corrupt or hostile, or pass a larger maxTensorBytes.`);
    }
    this.take(bytes, what);
  }
}

function readZip(bytes: Uint8Array, limits: Limits): TorchStateDict {
  const { source } = limits;
  const where = `${FN}: ${source}`;
  const entries = readZipDirectory(bytes, where);
  const names = [...entries.keys()];
  const pickles = names.filter((n) => n === "data.pkl" || n.endsWith("/data.pkl"));
  if (pickles.length !== 1) {
    const torchscript = names.some((n) => n.endsWith("constants.pkl") || n.includes("/code/"));
    throw new Error(
      `${where} is a zip archive with ${pickles.length === 0 ? "no data.pkl" : `${pickles.length} data.pkl entries`}${
        torchscript ? " (it looks like a TorchScript archive from torch.jit.save; save the state dict with torch.save(model.state_dict(), path) instead)" : ""
      }; entries: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", ..." : ""}.`,
    );
  }
  const pklName = pickles[0] as string;
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const budget = new Budget(limits);
  // Inflating is paid for before any of it happens, at the sizes the central directory declares for every compressed
  // entry this reader may read; readZipEntry caps each inflation at its declared size.
  const read = [...entries.values()].filter((e) => e.name === pklName || e.name === `${prefix}byteorder` || e.name.startsWith(`${prefix}data/`));
  const deflated = read.filter((e) => e.method !== 0);
  const inflated = deflated.reduce((sum, e) => sum + e.size, 0);
  if (deflated.length > 0) budget.take(inflated, `inflating ${deflated.length} compressed entr${deflated.length === 1 ? "y" : "ies"} (as the zip's central directory declares them)`);
  const contents = new Map<ZipEntry, Uint8Array>();
  const content = (entry: ZipEntry): Uint8Array => {
    let data = contents.get(entry);
    if (data === undefined) {
      data = readZipEntry(bytes, entry, where);
      contents.set(entry, data);
    }
    return data;
  };
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder !== undefined && new TextDecoder().decode(content(byteorder)).trim() !== "little") {
    throw new Error(`${where} was written on a big-endian machine (${prefix}byteorder), which this reader does not support.`);
  }
  const { value } = unpickle(content(entries.get(pklName) as ZipEntry), 0, `${where} (${pklName})`, limits);
  const storage = (ref: StorageRef): Uint8Array => {
    const name = `${prefix}data/${ref.key}`;
    const entry = entries.get(name);
    if (entry === undefined) throw new Error(`${where} has no entry ${name}, which the pickle names as a storage; the file is corrupt.`);
    const raw = content(entry);
    checkStorageBytes(raw, ref, `${source} (${name})`);
    return raw;
  };
  return build(value, storage, limits, budget, "zip");
}

function readLegacy(bytes: Uint8Array, limits: Limits): TorchStateDict {
  const { source } = limits;
  const where = `${FN}: ${source}`;
  const magic = unpickle(bytes, 0, `${where} (magic number)`, limits);
  if (magic.value !== LEGACY_MAGIC) {
    throw new Error(`${where} is not a PyTorch file: it starts with a pickle of ${preview(magic.value)}, not PyTorch's magic number.`);
  }
  const protocol = unpickle(bytes, magic.end, `${where} (protocol version)`, limits);
  if (protocol.value !== LEGACY_PROTOCOL) throw new Error(`${where}: legacy protocol version ${preview(protocol.value)} is not supported (expected ${LEGACY_PROTOCOL}).`);
  const sysInfo = unpickle(bytes, protocol.end, `${where} (sys info)`, limits);
  if (sysInfo.value instanceof PickleDict && sysInfo.value.entries.get("little_endian") === false) {
    throw new Error(`${where} was written on a big-endian machine, which this reader does not support.`);
  }
  const object = unpickle(bytes, sysInfo.end, `${where} (object pickle)`, limits);
  const keyList = unpickle(bytes, object.end, `${where} (storage key list)`, limits);
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
  return build(object.value, storage, limits, new Budget(limits), "legacy");
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
    if (Array.isArray(v)) for (const item of v) todo.push(item);
    else if (v instanceof PickleTuple) for (const item of v.items) todo.push(item);
    else if (v instanceof PickleDict) for (const item of [...v.entries.values(), ...v.attributes.values()]) todo.push(item);
  }
}

/** A key for an error message: quoted, cut to 100 characters. */
function quote(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}...` : key);
}

/**
 * Flattens the unpickled object into tensors, plain values and metadata: a walk with its own stack (not recursion),
 * in file order, that checks each container's depth against `options.maxDepth` and charges keys and tensors to the
 * budget.
 */
function build(root: PickleValue, storage: (ref: StorageRef) => Uint8Array, limits: Limits, budget: Budget, format: "zip" | "legacy"): TorchStateDict {
  const { source, maxDepth } = limits;
  if (!(root instanceof PickleDict)) throw new Error(`${FN}: ${source} holds a ${describe(root)}, not a dict of tensors (a state dict).`);
  const tensors = new Map<string, TorchTensor>();
  const values = new Map<string, TorchPlainValue>();
  const seen = new Set<object>();
  // [key, value, depth]: a container at depth d holds items at depth d + 1; the root dict is at depth 1.
  const todo: [string, PickleValue, number][] = [["", root, 1]];
  while (todo.length > 0) {
    const [key, v, depth] = todo.pop() as [string, PickleValue, number];
    if (v instanceof TensorRef) {
      tensors.set(key, materialize(v, storage(v.storage), `tensor ${quote(key)}`, limits, budget));
      continue;
    }
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) {
      values.set(key, v);
      continue;
    }
    if (v instanceof StorageRef || v instanceof PickleGlobal) {
      throw new Error(`${FN}: ${source}: the value at ${quote(key)} is a bare ${describe(v)}, which a state dict does not hold.`);
    }
    if (depth > maxDepth) {
      throw new Error(`${FN}: ${source}: the container at ${quote(key)} is nested ${depth} deep, more than options.maxDepth = ${maxDepth} (a state dict nests a few levels); the file is corrupt or hostile, or pass a larger maxDepth.`);
    }
    if (seen.has(v)) throw new Error(`${FN}: ${source}: the container at ${quote(key)} appears more than once (shared or cyclic); a state dict is a tree.`);
    seen.add(v);
    const prefix = key === "" ? "" : `${key}.`;
    const children: [string, PickleValue, number][] = [];
    const child = (k: string, item: PickleValue): void => {
      const childKey = `${prefix}${k}`;
      budget.take(2 * childKey.length, `the key ${quote(childKey)} (${childKey.length} characters)`);
      children.push([childKey, item, depth + 1]);
    };
    if (v instanceof PickleDict) {
      for (const [k, item] of v.entries) {
        if (typeof k !== "string" && typeof k !== "number") throw new Error(`${FN}: ${source}: a key under ${quote(key)} is a ${describe(k)}, not a string.`);
        child(String(k), item);
      }
    } else {
      const items = Array.isArray(v) ? v : v.items;
      items.forEach((item, i) => child(String(i), item));
    }
    // Reversed onto the stack, so that the walk visits them in file order.
    for (let i = children.length - 1; i >= 0; i--) todo.push(children[i] as [string, PickleValue, number]);
  }
  return { tensors, values, metadata: readMetadata(root, source), format };
}

function readMetadata(root: PickleDict, source: string): Map<string, Record<string, TorchPlainValue>> {
  const out = new Map<string, Record<string, TorchPlainValue>>();
  const meta = root.attributes.get("_metadata");
  if (meta === undefined || meta === null) return out;
  if (!(meta instanceof PickleDict)) throw new Error(`${FN}: ${source}: _metadata is a ${describe(meta)}, not a dict.`);
  for (const [prefix, entry] of meta.entries) {
    if (typeof prefix !== "string" || !(entry instanceof PickleDict)) throw new Error(`${FN}: ${source}: _metadata entry ${preview(prefix)} is not a {str: dict} item.`);
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
 * row-major order (a strided or expanded view is gathered into a contiguous array). The array's size is checked
 * against the budget before it is allocated, and the work is proportional to it (never to the storage's size).
 */
function materialize(ref: TensorRef, raw: Uint8Array, what: string, limits: Limits, budget: Budget): TorchTensor {
  const { storage } = ref;
  const dtype = storage.dtype;
  const described = `${what} (${dtype}, shape ${list(ref.shape)}, stride ${list(ref.stride)})`;
  // A product of floats: inexact only past 2^53 elements, far past any budget but Infinity (where allocation fails).
  // A dimension of 0 first, since Infinity * 0 is NaN.
  const n = ref.shape.includes(0) ? 0 : ref.shape.reduce((product, d) => product * d, 1);
  budget.tensor(n * OUTPUT_BYTES[dtype], described);
  if (n === 0) return { dtype, shape: [...ref.shape], data: emptyData(dtype, 0) };
  // Dimensions of size 1 move nothing: without them every dimension has 2 or more, so at most log2(n) remain and the
  // gather below does O(1) work an element, however many dimensions of size 1 the file lists.
  const kept = ref.shape.flatMap((d, i) => (d === 1 ? [] : [i]));
  const shape = kept.map((i) => ref.shape[i] as number);
  const stride = kept.map((i) => ref.stride[i] as number);
  // Elements [offset, offset + extent) of the storage hold every element of the view.
  let extent = 1;
  for (let d = 0; d < shape.length; d++) extent += ((shape[d] as number) - 1) * (stride[d] as number);
  if (ref.offset + extent > storage.viewSize) {
    throw new Error(
      `${FN}: ${limits.source}: ${what} (shape ${list(ref.shape)}, stride ${list(ref.stride)}, offset ${ref.offset}) reaches element ${ref.offset + extent - 1} of a storage of ${storage.viewSize} elements; the file is corrupt.`,
    );
  }
  const size = DTYPE_BYTES[dtype];
  const first = storage.viewOffset + ref.offset;
  try {
    if (extent === n && isContiguous(shape, stride)) {
      return { dtype, shape: [...ref.shape], data: decodeElements(raw.subarray(first * size, (first + n) * size), dtype, n) };
    }
    const out = emptyData(dtype, n);
    const get = elementReader(raw, dtype);
    // Typed arrays of one element kind: write through an index signature (numbers, or bigints for int64).
    const to = out as unknown as (number | bigint)[];
    const rank = shape.length;
    const index = new Array<number>(rank).fill(0);
    let at = first;
    for (let i = 0; i < n; i++) {
      to[i] = get(at);
      for (let d = rank - 1; d >= 0; d--) {
        index[d] = (index[d] as number) + 1;
        at += stride[d] as number;
        if ((index[d] as number) < (shape[d] as number)) break;
        at -= (stride[d] as number) * (shape[d] as number);
        index[d] = 0;
      }
    }
    return { dtype, shape: [...ref.shape], data: out };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new Error(
      `${FN}: ${limits.source}: ${described} needs ${n * OUTPUT_BYTES[dtype]} bytes, which could not be allocated (${error.message}); free memory or lower options.maxTensorBytes and options.maxBytes.`,
    );
  }
}

/** A shape or stride for an error message, at most 8 numbers of it. */
function list(xs: readonly number[]): string {
  return `[${xs.slice(0, 8).join(", ")}${xs.length > 8 ? `, ... (${xs.length} in all)` : ""}]`;
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if ((shape[d] as number) !== 1 && stride[d] !== expected) return false;
    expected *= shape[d] as number;
  }
  return true;
}
