import { createHash } from "node:crypto";
import { decodeSafetensors, encodeSafetensors } from "@dale/io";

/**
 * The classifier's file: a safetensors file (`@dale/io`'s codec), float32 only, with a sha256 of the data section:
 *
 *     [8 bytes: N, unsigned little-endian] [N bytes: JSON header, space-padded to a multiple of 8] [data]
 *     header = { "__metadata__": { format: "dale-classifier", version: "1", sha256: <hex of data>, ... },
 *                name: { dtype: "F32", shape: [..], data_offsets: [begin, end] }, ... }
 *
 * Any safetensors reader opens the file; the checksum lets this one tell a corrupted file from a valid one.
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

/** The data section of a safetensors file: what follows the 8-byte length and the header. */
function dataSection(bytes: Uint8Array): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  return bytes.subarray(8 + n);
}

/** Encodes tensors (in the given order) and string metadata; adds `format`, `version` and `sha256`. */
export function encodeTensors(tensors: [string, RawTensor][], metadata: Record<string, string>): { bytes: Uint8Array; sha256: string } {
  const entries = tensors.map(([name, t]): [string, RawTensor] => [name, t]);
  // The data section does not depend on the metadata: hash it from a first encoding, then write the header with it.
  const sha256 = sha256Hex(dataSection(encodeSafetensors(entries)));
  return { bytes: encodeSafetensors(entries, { metadata: { ...metadata, format: FORMAT, version: VERSION, sha256 } }), sha256 };
}

/**
 * Decodes a file written by {@link encodeTensors}. Every check failure throws an error that starts with `source` and
 * says what is wrong: truncated or malformed (from the safetensors reader), another format or version, a dtype other
 * than F32, or data whose sha256 differs from the header's.
 */
export function decodeTensors(bytes: Uint8Array, source: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string>; sha256: string } {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) fail("expected the file's bytes as a Uint8Array.");
  const file = decodeSafetensors(bytes, source);
  const { metadata } = file;
  if (metadata.format !== FORMAT) fail(`not a Dale classifier file (its __metadata__.format is ${JSON.stringify(metadata.format)}, expected "${FORMAT}").`);
  if (metadata.version !== VERSION) fail(`written by an unknown version "${metadata.version}" of the format; this reader knows version ${VERSION}.`);
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of file.tensors) {
    if (t.dtype !== "F32") fail(`tensor "${name}" has dtype ${t.dtype}; only F32 is written by Dale.`);
    tensors.set(name, { data: t.data, shape: t.shape });
  }
  const sha256 = sha256Hex(dataSection(bytes));
  if (sha256 !== metadata.sha256) fail(`corrupted: the data's sha256 is ${sha256}, the header says ${metadata.sha256}.`);
  return { tensors, metadata, sha256 };
}
