/**
 * Builders of PyTorch files for the tests, in TypeScript (no Python or torch needed): pickle opcodes, a state-dict
 * pickle of tensors, the zip container (with any declared sizes, for zip bombs) and the legacy stream.
 */
import { crc32, deflateRawSync } from "node:zlib";

export const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Pickle opcodes, as `torch.save` (protocol 2) writes them. */
export const op = {
  proto: (v = 2): number[] => [0x80, v],
  stop: [0x2e],
  mark: [0x28],
  none: [0x4e],
  false: [0x89],
  emptyDict: [0x7d],
  emptyList: [0x5d],
  emptyTuple: [0x29],
  tuple: [0x74],
  append: [0x61],
  appends: [0x65],
  setitem: [0x73],
  setitems: [0x75],
  reduce: [0x52],
  binpersid: [0x51],
  /** BINUNICODE of a string (UTF-8). */
  str: (s: string): number[] => {
    const b = [...new TextEncoder().encode(s)];
    return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b];
  },
  /** A non-negative integer: BININT1, BININT, or LONG1 past 2^31. */
  int: (n: number): number[] => {
    if (n < 256) return [0x4b, n];
    if (n < 2 ** 31) return [0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    const bytes: number[] = [];
    for (let v = BigInt(n); v > 0n; v >>= 8n) bytes.push(Number(v & 0xffn));
    if ((bytes[bytes.length - 1] as number) & 0x80) bytes.push(0);
    return [0x8a, bytes.length, ...bytes];
  },
  global: (module: string, name: string): number[] => [0x63, ...ascii(`${module}\n${name}\n`)],
  binput: (i: number): number[] => [0x71, i],
  binget: (i: number): number[] => [0x68, i],
};

/** A tensor for `stateDictPickle`: a view of storage `key` (`numel` elements of `storageClass`). */
export interface TensorSpec {
  storageClass: string;
  key: string;
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/** `_rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())`, as opcodes. */
export function tensorOps(t: TensorSpec): number[] {
  const ints = (xs: number[]): number[] => [...op.mark, ...xs.flatMap(op.int), ...op.tuple];
  return [
    ...op.global("torch._utils", "_rebuild_tensor_v2"),
    ...op.mark,
    ...[...op.mark, ...op.str("storage"), ...op.global("torch", t.storageClass), ...op.str(t.key), ...op.str("cpu"), ...op.int(t.numel), ...op.tuple, ...op.binpersid],
    ...op.int(t.offset),
    ...ints(t.shape),
    ...ints(t.stride),
    ...op.false,
    ...op.global("collections", "OrderedDict"),
    ...op.emptyTuple,
    ...op.reduce,
    ...op.tuple,
    ...op.reduce,
  ];
}

/** A pickle of `{ key: value }` for opcodes `value` of each entry. */
export function dictPickle(entries: [string, number[]][]): Uint8Array {
  return new Uint8Array([...op.proto(), ...op.emptyDict, ...entries.flatMap(([k, v]) => [...op.str(k), ...v, ...op.setitem]), ...op.stop]);
}

/** A pickle of a dict of tensors. */
export function stateDictPickle(tensors: [string, TensorSpec][]): Uint8Array {
  return dictPickle(tensors.map(([k, t]) => [k, tensorOps(t)]));
}

/** One file of `zipArchive`: stored (method 0) unless `deflate`; `declaredSize` overrides the uncompressed size. */
export interface ZipFileSpec {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Already-deflated data (raw deflate) to store as method 8, with this uncompressed size. */
  deflated?: { size: number };
  declaredSize?: number;
  crc?: number;
}

/** A zip archive (no zip64), written as simply as the format allows. */
export function zipArchive(files: ZipFileSpec[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.name);
    const method = f.deflate === true || f.deflated !== undefined ? 8 : 0;
    const data = f.deflate === true ? new Uint8Array(deflateRawSync(f.data)) : f.data;
    const size = f.declaredSize ?? f.deflated?.size ?? f.data.length;
    const crc = f.crc ?? (f.deflated !== undefined ? 0 : crc32(f.data) >>> 0);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const header = new Uint8Array(46 + name.length);
    const cv = new DataView(header.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    header.set(name, 46);
    parts.push(local, data);
    central.push(header);
    offset += local.length + data.length;
  }
  const dirSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concat([...parts, ...central, end]);
}

/** A torch zip file: `archive/data.pkl`, `archive/data/<key>` for each storage, `archive/version`. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, options: { deflate?: boolean } = {}): Uint8Array {
  return zipArchive([
    { name: "archive/data.pkl", data: pickle, deflate: options.deflate },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data, deflate: options.deflate })),
    { name: "archive/version", data: new Uint8Array(ascii("3\n")) },
  ]);
}

/** A legacy (pre-1.6) torch file: magic, protocol, sys info, the object pickle, the key list, then each storage. */
export function legacyFile(object: Uint8Array, storages: [key: string, numel: number, data: Uint8Array][]): Uint8Array {
  const pickle = (body: number[]): number[] => [...op.proto(), ...body, ...op.stop];
  const magic = pickle([0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
  const protocol = pickle([0x4d, 0xe9, 0x03]);
  const sysInfo = pickle([...op.emptyDict, ...op.str("little_endian"), 0x88, ...op.setitem]);
  const keys = pickle([...op.emptyList, ...op.mark, ...storages.flatMap(([k]) => op.str(k)), ...op.appends]);
  const data = storages.flatMap(([, numel, bytes]) => {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(numel), true);
    return [...count, ...bytes];
  });
  return new Uint8Array([...magic, ...protocol, ...sysInfo, ...object, ...keys, ...data]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Raw deflate data that inflates to `chunks` MiB of zeros: one MiB deflated with a sync flush (so no final block),
 * repeated, then an empty final block. About 1 KiB of output per MiB, without ever holding the inflated bytes.
 */
export function deflatedZeros(chunks: number): Uint8Array {
  const chunk = new Uint8Array(deflateRawSync(new Uint8Array(2 ** 20), { finishFlush: 2 /* Z_SYNC_FLUSH */ }));
  const parts: Uint8Array[] = new Array<Uint8Array>(chunks).fill(chunk);
  return concat([...parts, new Uint8Array([0x03, 0x00])]);
}

/** What `measure` saw of one call: its error (if it threw), its wall time and the array-buffer bytes it left behind. */
export interface Measured<T> {
  result?: T;
  error?: unknown;
  ms: number;
  /**
   * Growth of `process.memoryUsage().arrayBuffers` over the call: every array buffer the call allocated, whether it
   * still holds it or dropped it, unless a collection ran during the call. So that one cannot hide much, the heap is
   * collected first (tests run with --expose-gc) whenever garbage of earlier calls holds more than 32 MiB.
   */
  arrayBytes: number;
}

let baseline = process.memoryUsage().arrayBuffers;

export function measure<T>(run: () => T): Measured<T> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined && process.memoryUsage().arrayBuffers > baseline + 32 * 2 ** 20) {
    gc();
    baseline = process.memoryUsage().arrayBuffers;
  }
  const before = process.memoryUsage().arrayBuffers;
  const start = performance.now();
  let result: T | undefined;
  let error: unknown;
  try {
    result = run();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - start;
  const arrayBytes = process.memoryUsage().arrayBuffers - before;
  return error === undefined ? { result, ms, arrayBytes } : { error, ms, arrayBytes };
}
