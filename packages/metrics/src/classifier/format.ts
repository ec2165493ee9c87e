import { createHash } from "node:crypto";

/**
 * The classifier's file: the safetensors layout (huggingface/safetensors), float32 only, with a sha256 of the data:
 *
 *     [8 bytes: N, unsigned little-endian] [N bytes: JSON header, space-padded to a multiple of 8] [data]
 *     header = { name: { dtype: "F32", shape: [..], data_offsets: [begin, end] }, ...,
 *                "__metadata__": { format: "dale-classifier", version: "1", sha256: <hex of data>, ... } }
 *
 * Offsets are relative to the start of the data, values little-endian. Any safetensors reader opens the file; the
 * checksum lets this one tell a corrupted or truncated file from a valid one.
 */

/** float32 values and their shape. */
export interface RawTensor {
  data: Float32Array;
  shape: number[];
}

export const FORMAT = "dale-classifier";
export const VERSION = "1";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Encodes tensors (in the given order) and string metadata; adds `format`, `version` and `sha256`. */
export function encodeTensors(tensors: [string, RawTensor][], metadata: Record<string, string>): { bytes: Uint8Array; sha256: string } {
  let size = 0;
  for (const [, t] of tensors) size += t.data.length * 4;
  const data = new Uint8Array(size);
  const view = new DataView(data.buffer);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`encodeTensors: "${name}" has shape [${t.shape}] but ${t.data.length} values.`);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    for (let i = 0; i < n; i++) view.setFloat32(offset + 4 * i, t.data[i] as number, true);
    offset += 4 * n;
  }
  const sha256 = sha256Hex(data);
  header.__metadata__ = { ...metadata, format: FORMAT, version: VERSION, sha256 };
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json, "utf8") % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return { bytes: out, sha256 };
}

/**
 * Decodes a file written by {@link encodeTensors}. Every check failure throws an error that starts with `source`
 * and says what is wrong: truncated, not JSON, another format, or data whose sha256 differs from the header's.
 */
export function decodeTensors(bytes: Uint8Array, source: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string>; sha256: string } {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) fail("expected the file's bytes as a Uint8Array.");
  if (bytes.length < 8) fail(`truncated or not a classifier file: ${bytes.length} bytes, fewer than the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) fail(`truncated or not a classifier file: the header length says ${n} bytes, but only ${bytes.length - 8} follow.`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (err) {
    return fail(`corrupted or not a classifier file: the header is not valid JSON (${(err as Error).message}).`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("corrupted: the header is not a JSON object.");
  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  if (typeof meta !== "object" || meta === null || meta.format !== FORMAT) {
    fail(`not a Dale classifier file (its __metadata__.format is ${JSON.stringify(meta?.format)}, expected "${FORMAT}").`);
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta as object)) {
    if (typeof v !== "string") fail(`corrupted: __metadata__.${k} is not a string.`);
    metadata[k] = v as string;
  }
  if (metadata.version !== VERSION) fail(`written by an unknown version "${metadata.version}" of the format; this reader knows version ${VERSION}.`);
  const data = bytes.subarray(8 + n);
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== "F32") fail(`tensor "${name}" has dtype ${String(dtype)}; only F32 is written by Dale.`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`corrupted: tensor "${name}" has an invalid shape.`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`corrupted: tensor "${name}" has invalid data_offsets.`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== 4 * count) fail(`corrupted: tensor "${name}" has data_offsets [${begin}, ${end}] for shape [${String(shape)}].`);
    entries.push({ name, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) fail(`corrupted: tensor "${e.name}" starts at data byte ${e.begin}, expected ${expected}.`);
    expected = e.end;
  }
  if (data.length < expected) fail(`truncated: the tensors need ${expected} data bytes, the file holds ${data.length}.`);
  if (data.length > expected) fail(`corrupted: ${data.length - expected} bytes follow the last tensor.`);
  const sha256 = sha256Hex(data);
  if (sha256 !== metadata.sha256) fail(`corrupted: the data's sha256 is ${sha256}, the header says ${metadata.sha256}.`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    const values = new Float32Array((e.end - e.begin) / 4);
    for (let i = 0; i < values.length; i++) values[i] = dv.getFloat32(e.begin + 4 * i, true);
    tensors.set(e.name, { data: values, shape: e.shape });
  }
  return { tensors, metadata, sha256 };
}
