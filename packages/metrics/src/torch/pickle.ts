/**
 * A restricted pickle interpreter for PyTorch state dicts, in the spirit of `torch.load(..., weights_only=True)`
 * (torch/_weights_only_unpickler.py): it understands only the opcodes and the few globals that a dict of tensors
 * needs, and nothing it reads can make it call anything but the handful of constructors written out below. There is no
 * name lookup: a GLOBAL that is not on the allow-list is an `UnsafePickleError`, whatever follows it.
 *
 * Values are plain data (null, booleans, numbers, bigints, strings, bytes, lists, tuples, dicts) plus three markers:
 * a storage reference (from a persistent id), a tensor reference (from `torch._utils._rebuild_tensor_v2`) and an
 * allowed global. Tensor data is not touched here: the container (zip or legacy) resolves storages afterwards.
 */
import { STORAGE_DTYPES, type TorchDtype } from "./dtypes";

/** Thrown when a file asks for something a weights file has no business doing (calling a function, importing). */
export class UnsafePickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafePickleError";
  }
}

/** A tuple (kept apart from lists, which are JS arrays). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** Keys a dict may have: what Python's hashable scalars map to. */
export type PickleKey = string | number | bigint | boolean | null;

/** A dict or collections.OrderedDict, in insertion order, with the state that BUILD gave it (`_metadata`). */
export class PickleDict {
  readonly entries = new Map<PickleKey, PickleValue>();
  /** Attributes set by BUILD (an OrderedDict's `__dict__`, e.g. `{ _metadata: OrderedDict }`). */
  readonly attributes = new Map<string, PickleValue>();
  constructor(readonly ordered: boolean) {}
}

/** An allowed global, as a value on the stack (only REDUCE and persistent ids may consume it). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`, the persistent id of a storage. */
export class StorageRef {
  constructor(
    /** The storage's name in the container: `data/<key>` in a zip, the key list of a legacy file. */
    readonly key: string,
    readonly dtype: TorchDtype,
    /** Elements in the (root) storage `key`, as declared. */
    readonly numel: number,
    readonly location: string,
    /** Legacy storage views: this storage is elements `[viewOffset, viewOffset + viewSize)` of the root storage. */
    readonly viewOffset = 0,
    readonly viewSize = numel,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)` describes it (data not yet read). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
    /** Saved as an `nn.Parameter` (`_rebuild_parameter`). */
    readonly parameter: boolean,
  ) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | StorageRef
  | TensorRef;

/**
 * The globals a state dict may name. Storage classes may only appear inside a persistent id; the callables may only
 * be called by REDUCE with the arguments checked below.
 */
const CALLABLES = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
]);

function isAllowedGlobal(module: string, name: string): boolean {
  if (CALLABLES.has(`${module}.${name}`)) return true;
  return module === "torch" && Object.hasOwn(STORAGE_DTYPES, name);
}

/** The opcodes accepted, by byte, with their names for error messages. */
const OP = {
  MARK: 0x28,
  EMPTY_TUPLE: 0x29,
  STOP: 0x2e,
  BINFLOAT: 0x47,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  NONE: 0x4e,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  BINUNICODE: 0x58,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  APPENDS: 0x65,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  SETITEMS: 0x75,
  EMPTY_DICT: 0x7d,
  PROTO: 0x80,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

/** Names of the opcodes that are refused, so that the error says what was found. */
const REFUSED: Record<number, string> = {
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4c: "LONG",
  0x50: "PERSID",
  0x53: "STRING",
  0x56: "UNICODE",
  0x67: "GET",
  0x69: "INST (calls the class it names)",
  0x6f: "OBJ (calls a class)",
  0x70: "PUT",
  0x81: "NEWOBJ (calls cls.__new__)",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x8b: "LONG4",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX (calls cls.__new__)",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

const MARK = Symbol("mark");
type StackItem = PickleValue | typeof MARK;

const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface UnpickleOptions {
  /**
   * Deepest nesting of containers (lists, tuples, dicts) allowed; a list in a dict is 2 deep. Default
   * `DEFAULT_MAX_DEPTH`. Deeper data is refused with an error instead of being built (code that walks it recursively,
   * here or in the caller, would otherwise overflow the stack).
   */
  maxDepth?: number;
}

/** Default `maxDepth`: a state dict nests a few levels (a checkpoint dict of an optimizer state of lists). */
export const DEFAULT_MAX_DEPTH = 64;

export interface UnpickleResult {
  value: PickleValue;
  /** Offset just past the STOP opcode. */
  end: number;
}

/**
 * Runs the restricted interpreter on the pickle that starts at `bytes[start]`, up to its STOP.
 *
 * @param source names the pickle in error messages, e.g. `"model.pth (data.pkl)"`.
 * @throws UnsafePickleError for anything outside the allow-list; Error for truncated or malformed data, and for
 * containers nested deeper than `options.maxDepth`.
 */
export function unpickle(bytes: Uint8Array, start: number, source: string, options: UnpickleOptions = {}): UnpickleResult {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let stack: StackItem[] = [];
  const marks: StackItem[][] = [];
  const memo = new Map<number, PickleValue>();
  let opAt = pos;
  // Nesting depth of every container built (1 for an empty one), kept as items are added. A container changed after
  // it was itself nested (through the memo) does not update its parents: walks of the result check depth again.
  const depths = new WeakMap<object, number>();
  const depthOf = (v: PickleValue): number => (v !== null && typeof v === "object" ? (depths.get(v) ?? 0) : 0);
  const deepen = <T extends PickleValue[] | PickleTuple | PickleDict>(container: T, children: Iterable<PickleValue>): T => {
    let d = depths.get(container) ?? 1;
    for (const child of children) d = Math.max(d, depthOf(child) + 1);
    if (d > maxDepth) {
      throw new Error(
        `${source}: containers nested more than ${maxDepth} deep at byte ${opAt} (options.maxDepth = ${maxDepth}; a state dict nests a few levels): the file is corrupt or hostile, or pass a larger maxDepth.`,
      );
    }
    depths.set(container, d);
    return container;
  };

  const fail = (what: string): Error => new Error(`${source}: ${what} at byte ${opAt}; the file is corrupt or not a PyTorch state dict.`);
  const unsafe = (what: string): UnsafePickleError =>
    new UnsafePickleError(`${source}: refused ${what} at byte ${opAt}: a weights file only needs tensors, dicts and plain values, and this reader never runs code from a file.`);
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) {
      throw new Error(`${source}: truncated: opcode at byte ${opAt} needs ${n} more bytes but the data ends at byte ${bytes.length}.`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined) throw fail("stack underflow");
    if (v === MARK) throw fail("unexpected MARK on the stack");
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined) throw fail("stack underflow");
    if (v === MARK) throw fail("unexpected MARK on the stack");
    return v;
  };
  const popMark = (): PickleValue[] => {
    const items = stack;
    const outer = marks.pop();
    if (outer === undefined) throw fail("no MARK to pop to");
    stack = outer;
    for (const item of items) if (item === MARK) throw fail("unexpected MARK on the stack");
    return items as PickleValue[];
  };
  const text = (at: number, n: number): string => {
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      throw fail("invalid UTF-8 in a string");
    }
  };
  const readLine = (): string => {
    const n = bytes.subarray(pos, pos + 257).indexOf(0x0a);
    if (n < 0) throw fail("GLOBAL without a newline-terminated name of at most 256 bytes");
    const s = text(pos, n);
    pos += n + 1;
    return s;
  };
  const pushGlobal = (module: string, name: string): void => {
    if (!isAllowedGlobal(module, name)) throw unsafe(`global ${module}.${name}`);
    stack.push(new PickleGlobal(module, name));
  };
  const setItem = (dict: PickleValue, key: PickleValue, value: PickleValue): void => {
    if (!(dict instanceof PickleDict)) throw fail(`SETITEM(S) on a ${describe(dict)} (only dicts take items)`);
    if (!isKey(key)) throw fail(`dict key of type ${describe(key)} (expected str, int, bool or None)`);
    dict.entries.set(key, value);
    deepen(dict, [value]);
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) throw new Error(`${source}: truncated: the pickle ends at byte ${bytes.length} without a STOP opcode.`);
    const op = bytes[pos++] as number;
    switch (op) {
      case OP.PROTO: {
        const v = bytes[need(1)] as number;
        if (v > 5) throw fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case OP.FRAME:
        need(8); // a length hint; the frame's opcodes follow inline
        break;
      case OP.STOP:
        if (marks.length > 0) throw fail("STOP inside an open MARK");
        return { value: pop(), end: pos };
      case OP.MARK:
        marks.push(stack);
        stack = [];
        break;
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BININT:
        stack.push(view.getInt32(need(4), true));
        break;
      case OP.BININT1:
        stack.push(bytes[need(1)] as number);
        break;
      case OP.BININT2:
        stack.push(view.getUint16(need(2), true));
        break;
      case OP.LONG1: {
        const n = bytes[need(1)] as number;
        stack.push(decodeLong(bytes.subarray(need(n), pos)));
        break;
      }
      case OP.BINFLOAT:
        stack.push(view.getFloat64(need(8), false));
        break;
      case OP.BINUNICODE: {
        const n = view.getUint32(need(4), true);
        stack.push(text(need(n), n));
        break;
      }
      case OP.BINUNICODE8: {
        const n = Number(view.getBigUint64(need(8), true));
        stack.push(text(need(n), n));
        break;
      }
      case OP.SHORT_BINUNICODE: {
        const n = bytes[need(1)] as number;
        stack.push(text(need(n), n));
        break;
      }
      case OP.SHORT_BINSTRING: {
        // Python 2 str: torch.load decodes these as UTF-8.
        const n = bytes[need(1)] as number;
        stack.push(text(need(n), n));
        break;
      }
      case OP.BINSTRING: {
        const n = view.getInt32(need(4), true);
        stack.push(text(need(n), n));
        break;
      }
      case OP.SHORT_BINBYTES: {
        const n = bytes[need(1)] as number;
        stack.push(bytes.slice(need(n), pos));
        break;
      }
      case OP.BINBYTES: {
        const n = view.getUint32(need(4), true);
        stack.push(bytes.slice(need(n), pos));
        break;
      }
      case OP.EMPTY_TUPLE:
        stack.push(deepen(new PickleTuple([]), []));
        break;
      case OP.TUPLE: {
        const items = popMark(); // before touching `stack`: popMark replaces it
        stack.push(deepen(new PickleTuple(items), items));
        break;
      }
      case OP.TUPLE1: {
        const a = pop();
        stack.push(deepen(new PickleTuple([a]), [a]));
        break;
      }
      case OP.TUPLE2: {
        const b = pop();
        const a = pop();
        stack.push(deepen(new PickleTuple([a, b]), [a, b]));
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(deepen(new PickleTuple([a, b, c]), [a, b, c]));
        break;
      }
      case OP.EMPTY_LIST:
        stack.push(deepen([], []));
        break;
      case OP.LIST: {
        const items = popMark();
        stack.push(deepen(items, items));
        break;
      }
      case OP.APPEND: {
        const item = pop();
        const list = top();
        if (!Array.isArray(list)) throw fail(`APPEND to a ${describe(list)} (only lists take APPEND)`);
        list.push(item);
        deepen(list, [item]);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw fail(`APPENDS to a ${describe(list)} (only lists take APPENDS)`);
        for (const item of items) list.push(item);
        deepen(list, items);
        break;
      }
      case OP.EMPTY_DICT:
        stack.push(deepen(new PickleDict(false), []));
        break;
      case OP.DICT: {
        const items = popMark();
        if (items.length % 2 !== 0) throw fail("DICT with an odd number of items");
        const dict = deepen(new PickleDict(false), []);
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i] as PickleValue, items[i + 1] as PickleValue);
        stack.push(dict);
        break;
      }
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        if (items.length % 2 !== 0) throw fail("SETITEMS with an odd number of items");
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i] as PickleValue, items[i + 1] as PickleValue);
        break;
      }
      case OP.BINPUT:
        memo.set(bytes[need(1)] as number, top());
        break;
      case OP.LONG_BINPUT:
        memo.set(view.getUint32(need(4), true), top());
        break;
      case OP.MEMOIZE:
        memo.set(memo.size, top());
        break;
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const index = op === OP.BINGET ? (bytes[need(1)] as number) : view.getUint32(need(4), true);
        const v = memo.get(index);
        if (v === undefined) throw fail(`memo entry ${index} read before it was written`);
        stack.push(v);
        break;
      }
      case OP.GLOBAL: {
        const module = readLine();
        const name = readLine();
        pushGlobal(module, name);
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") throw fail("STACK_GLOBAL without two strings");
        pushGlobal(module, name);
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal)) throw unsafe(`REDUCE on a ${describe(fn)}`);
        if (!(args instanceof PickleTuple)) throw fail(`REDUCE with ${describe(args)} arguments (expected a tuple)`);
        const result = call(fn, args.items, fail, unsafe);
        stack.push(result instanceof PickleDict ? deepen(result, result.entries.values()) : result);
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const target = top();
        if (!(target instanceof PickleDict) || !target.ordered) throw unsafe(`BUILD on a ${describe(target)} (only an OrderedDict's attributes may be set)`);
        if (!(state instanceof PickleDict)) throw unsafe(`BUILD with a ${describe(state)} state`);
        for (const [k, v] of state.entries) {
          if (typeof k !== "string") throw fail("BUILD state with a non-string attribute name");
          target.attributes.set(k, v);
        }
        deepen(target, state.entries.values());
        break;
      }
      case OP.BINPERSID:
        stack.push(storageFromPid(pop(), fail, unsafe));
        break;
      default: {
        const name = REFUSED[op];
        if (name !== undefined) throw unsafe(`opcode ${name} (0x${op.toString(16)})`);
        throw fail(`unknown opcode 0x${op.toString(16)}`);
      }
    }
  }
}

type Fail = (what: string) => Error;

function isKey(v: PickleValue): v is PickleKey {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "bigint" || typeof v === "boolean";
}

/** A short description of a value's type for error messages. */
export function describe(v: PickleValue | undefined): string {
  if (v === null) return "None";
  if (v === undefined) return "missing value";
  if (Array.isArray(v)) return "list";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof PickleTuple) return "tuple";
  if (v instanceof PickleDict) return v.ordered ? "OrderedDict" : "dict";
  if (v instanceof PickleGlobal) return `global ${v.path}`;
  if (v instanceof StorageRef) return "storage";
  if (v instanceof TensorRef) return "tensor";
  return typeof v === "string" ? "str" : typeof v === "number" || typeof v === "bigint" ? "int" : typeof v === "boolean" ? "bool" : typeof v;
}

/**
 * A value for an error message: scalars as they are (strings cut to 40 characters), anything else by its type only, so
 * that a message never walks (or stringifies) a container the file made arbitrarily deep or large.
 */
export function preview(v: PickleValue | undefined): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return `${describe(v)} ${String(v)}`;
  return describe(v);
}

/** Little-endian two's complement (pickle's LONG1) -> number when it is a safe integer, else bigint. */
function decodeLong(data: Uint8Array): number | bigint {
  if (data.length === 0) return 0;
  let v = 0n;
  for (let i = data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i] as number);
  if ((data[data.length - 1] as number) & 0x80) v -= 1n << BigInt(8 * data.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function count(v: PickleValue | undefined, what: string, fail: Fail): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw fail(`${what} is ${preview(v)} (expected a non-negative integer)`);
  return v;
}

function ints(v: PickleValue | undefined, what: string, fail: Fail): number[] {
  if (!(v instanceof PickleTuple)) throw fail(`${what} is a ${describe(v)} (expected a tuple of integers)`);
  return v.items.map((x, i) => count(x, `${what}[${i}]`, fail));
}

function emptyHooks(v: PickleValue | undefined, fail: Fail, unsafe: (what: string) => UnsafePickleError): void {
  if (v === null || v === undefined) return;
  if (!(v instanceof PickleDict)) throw fail(`backward_hooks is a ${describe(v)} (expected an OrderedDict)`);
  if (v.entries.size > 0) throw unsafe("a tensor with backward hooks");
}

/** The allowed calls, checked argument by argument. */
function call(fn: PickleGlobal, args: readonly PickleValue[], fail: Fail, unsafe: (what: string) => UnsafePickleError): PickleValue {
  switch (fn.path) {
    case "collections.OrderedDict": {
      const dict = new PickleDict(true);
      if (args.length === 0) return dict;
      const items = args[0];
      if (args.length !== 1 || !Array.isArray(items)) throw fail("OrderedDict called with arguments other than () or ([(key, value), ...])");
      for (const item of items) {
        if (!(item instanceof PickleTuple) || item.items.length !== 2) throw fail("OrderedDict item that is not a (key, value) pair");
        const [k, v] = item.items as [PickleValue, PickleValue];
        if (!isKey(k)) throw fail(`dict key of type ${describe(k)}`);
        dict.entries.set(k, v);
      }
      return dict;
    }
    case "torch._utils._rebuild_tensor":
    case "torch._utils._rebuild_tensor_v2": {
      const v2 = fn.name === "_rebuild_tensor_v2";
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      if (args.length < 4 || args.length > (v2 ? 7 : 4)) throw fail(`${fn.path} called with ${args.length} arguments`);
      const storage = args[0];
      if (!(storage instanceof StorageRef)) throw fail(`${fn.path}: storage is a ${describe(storage)}`);
      const offset = count(args[1], "storage_offset", fail);
      const shape = ints(args[2], "size", fail);
      const stride = ints(args[3], "stride", fail);
      if (shape.length !== stride.length) throw fail(`size has ${shape.length} dimensions but stride has ${stride.length}`);
      const requiresGrad = args[4] ?? false;
      if (typeof requiresGrad !== "boolean") throw fail(`requires_grad is a ${describe(requiresGrad)}`);
      emptyHooks(args[5], fail, unsafe);
      const metadata = args[6];
      if (metadata !== undefined && metadata !== null && !(metadata instanceof PickleDict && metadata.entries.size === 0)) {
        throw unsafe("tensor metadata (conjugate/negative bits or Python attributes)");
      }
      return new TensorRef(storage, offset, shape, stride, requiresGrad, false);
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      // (data, requires_grad, backward_hooks[, state])
      const withState = fn.name === "_rebuild_parameter_with_state";
      if (args.length !== (withState ? 4 : 3)) throw fail(`${fn.path} called with ${args.length} arguments`);
      const data = args[0];
      if (!(data instanceof TensorRef)) throw fail(`${fn.path}: data is a ${describe(data)}`);
      const requiresGrad = args[1];
      if (typeof requiresGrad !== "boolean") throw fail(`requires_grad is a ${describe(requiresGrad)}`);
      emptyHooks(args[2], fail, unsafe);
      const state = args[3];
      if (withState && state !== null && !(state instanceof PickleDict && state.entries.size === 0)) {
        throw unsafe("a Parameter with Python attributes");
      }
      return new TensorRef(data.storage, data.offset, data.shape, data.stride, requiresGrad, true);
    }
    default:
      throw unsafe(`a call to ${fn.path}`);
  }
}

/** Checks a persistent id and turns it into a storage reference; nothing else may be loaded by id. */
function storageFromPid(pid: PickleValue, fail: Fail, unsafe: (what: string) => UnsafePickleError): StorageRef {
  if (!(pid instanceof PickleTuple)) throw unsafe(`a persistent id that is a ${describe(pid)} (only storages may be loaded by id)`);
  const [tag, type, key, location, numel, view] = pid.items;
  // Python 2 pickles may hold the tag as bytes; anything longer than "storage" is not it.
  const tagText = tag instanceof Uint8Array && tag.length <= 16 ? String.fromCharCode(...tag) : tag;
  if (tagText !== "storage") throw unsafe(`a persistent id of kind ${typeof tagText === "string" ? JSON.stringify(tagText.slice(0, 40)) : preview(tagText)} (only "storage" is allowed)`);
  if (pid.items.length !== 5 && pid.items.length !== 6) throw fail(`storage persistent id with ${pid.items.length} fields (expected 5 or 6)`);
  if (!(type instanceof PickleGlobal) || type.module !== "torch" || !Object.hasOwn(STORAGE_DTYPES, type.name)) {
    throw fail(`storage persistent id whose type is ${describe(type)} (expected torch.FloatStorage, torch.HalfStorage, ...)`);
  }
  if (typeof key !== "string") throw fail(`storage key is a ${describe(key)}`);
  if (typeof location !== "string") throw fail(`storage location is a ${describe(location)}`);
  const n = count(numel, "storage size", fail);
  const dtype = STORAGE_DTYPES[type.name] as TorchDtype;
  if (view !== undefined && view !== null) {
    // Legacy storage views: (view_key, offset, view_size) = elements [offset, offset + view_size) of the root `key`.
    if (!(view instanceof PickleTuple) || view.items.length !== 3) throw fail("storage view metadata is not a (key, offset, size) tuple");
    const offset = count(view.items[1], "storage view offset", fail);
    const size = count(view.items[2], "storage view size", fail);
    if (offset + size > n) throw fail(`storage view [${offset}, ${offset + size}) outside its root storage of ${n} elements`);
    return new StorageRef(key, dtype, n, location, offset, size);
  }
  return new StorageRef(key, dtype, n, location);
}
