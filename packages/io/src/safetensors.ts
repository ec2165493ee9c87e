/**
 * The safetensors format (huggingface/safetensors), as used by Dale's checkpoints:
 *
 *     [8 bytes: N, unsigned little-endian] [N bytes: JSON header, space-padded to a multiple of 8] [data]
 *     header = { name: { dtype: "F32" | "F16", shape: [..], data_offsets: [begin, end] }, "__metadata__": { k: string } }
 *
 * with offsets relative to the start of the data and every value little-endian. Only F32 and F16 are written or read.
 */

import { float16ToFloat32, float32ToFloat16 } from "./float16";

/** The element types this module reads and writes. */
export type SafetensorsDtype = "F32" | "F16";

/** One tensor read from (or to be written to) a safetensors file: float32 values and a shape. */
export interface RawTensor {
  data: Float32Array;
  shape: number[];
}

/** A parsed safetensors file: tensors in file order, with the dtype each was stored as, and the metadata. */
export interface SafetensorsFile {
  tensors: Map<string, RawTensor & { dtype: SafetensorsDtype }>;
  metadata: Record<string, string>;
}

const bytesOf: Record<SafetensorsDtype, number> = { F32: 4, F16: 2 };

/**
 * Encodes tensors as a safetensors file. `dtype` applies to every tensor; metadata values must be strings.
 */
export function encodeSafetensors(
  tensors: Record<string, RawTensor> | [string, RawTensor][],
  options: { dtype?: SafetensorsDtype; metadata?: Record<string, string> } = {},
): Uint8Array {
  const dtype = options.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "F16") throw new Error(`encodeSafetensors: dtype must be "F32" or "F16", got ${String(dtype)}.`);
  const entries = Array.isArray(tensors) ? tensors : Object.entries(tensors);
  // No prototype: a tensor may be called "__proto__" or "constructor" (JSON.stringify writes own keys only).
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (options.metadata) {
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== "string") throw new Error(`encodeSafetensors: metadata value "${k}" must be a string, got ${typeof v}.`);
    }
    header.__metadata__ = options.metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new Error('encodeSafetensors: "__metadata__" is reserved and cannot name a tensor.');
    if (Object.hasOwn(header, name)) throw new Error(`encodeSafetensors: duplicate tensor name "${name}".`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`encodeSafetensors: "${name}" has shape [${t.shape}] (${size} values) but ${t.data.length} values.`);
    const end = offset + size * bytesOf[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // space-padded
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    if (dtype === "F32") {
      for (let i = 0; i < t.data.length; i++, pos += 4) view.setFloat32(pos, t.data[i] as number, true);
    } else {
      for (let i = 0; i < t.data.length; i++, pos += 2) view.setUint16(pos, float32ToFloat16(t.data[i] as number), true);
    }
  }
  return out;
}

/**
 * Decodes a safetensors file (F32 and F16 tensors; anything else is an error). `source` names the file in errors.
 * Checks that the header fits the file, that offsets are in order, contiguous and match each shape, and that the
 * data ends where the last tensor does.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`decodeSafetensors: bytes must be a Uint8Array, got ${bytes === null ? "null" : typeof bytes === "object" ? (Object.getPrototypeOf(bytes)?.constructor?.name ?? "object") : typeof bytes}.`);
  }
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, fewer than the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) fail(`truncated: the header says ${n} header bytes, but the file has only ${bytes.length - 8} after the length.`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (err) {
    return fail(`the header is not valid JSON (${(err as Error).message}).`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("the header is not a JSON object.");
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const raw = header.__metadata__;
  if (raw !== undefined) {
    if (typeof raw !== "object" || raw === null) fail("__metadata__ must be an object of strings.");
    for (const [k, v] of Object.entries(raw as object)) {
      if (typeof v !== "string") fail(`__metadata__.${k} must be a string.`);
      metadata[k] = v as string;
    }
  }
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== "F32" && dtype !== "F16") fail(`tensor "${name}" has dtype ${String(dtype)}; only F32 and F16 are supported.`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape.`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets.`);
    }
    const [begin, end] = offsets as [number, number];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== size * bytesOf[dtype as SafetensorsDtype]) {
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] do not hold ${size} ${String(dtype)} values of shape [${String(shape)}].`);
    }
    if (end > dataLength) fail(`truncated: tensor "${name}" ends at data byte ${end}, but the file holds ${dataLength} data bytes.`);
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  // By offset, an empty tensor before the one that starts where it sits (JSON puts integer-like names such as "0" first,
  // so an empty tensor may come after it in the header).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) fail(`tensor "${e.name}" starts at data byte ${e.begin}, expected ${expected} (overlap or gap).`);
    expected = e.end;
  }
  if (expected !== dataLength) fail(`the data holds ${dataLength} bytes, but the tensors cover ${expected}.`);
  const tensors: SafetensorsFile["tensors"] = new Map();
  for (const e of entries) {
    const size = (e.end - e.begin) / bytesOf[e.dtype];
    const data = new Float32Array(size);
    let pos = dataStart + e.begin;
    if (e.dtype === "F32") for (let i = 0; i < size; i++, pos += 4) data[i] = view.getFloat32(pos, true);
    else for (let i = 0; i < size; i++, pos += 2) data[i] = float16ToFloat32(view.getUint16(pos, true));
    tensors.set(e.name, { data, shape: e.shape, dtype: e.dtype });
  }
  return { tensors, metadata };
}
