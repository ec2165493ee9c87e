import { constants as bufferConstants } from "node:buffer";
import { gunzipSync } from "node:zlib";

/** The most bytes a decompressed file may hold, and what they are (for the error message). */
export interface GunzipLimit {
  bytes: number;
  /** E.g. "16-byte header + 10000 images of 28x28". */
  what: string;
}

/**
 * gunzip with an error that names the file (a truncated or damaged archive). With `limit`, decompression stops as
 * soon as the output passes `limit.bytes` (so a damaged or hostile file cannot inflate without bound) and that is an
 * error naming the expected size.
 */
export function gunzipFile(fn: string, file: string, gz: Uint8Array, limit?: GunzipLimit): Uint8Array {
  let buf: Buffer;
  try {
    buf = gunzipSync(gz, limit === undefined ? {} : { maxOutputLength: Math.max(1, Math.min(limit.bytes, bufferConstants.MAX_LENGTH)) });
  } catch (error) {
    if (limit !== undefined && (error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new Error(`${fn}: ${file} decompresses to more than ${limit.bytes} bytes; expected ${limit.bytes} (${limit.what}), the file is not the expected one.`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${fn}: ${file} is not a complete gzip stream (${reason}); expected a whole .gz file, the file is probably truncated or damaged.`);
  }
  // A plain Uint8Array view (not a Buffer, whose slice() does not copy).
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
