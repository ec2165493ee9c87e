import { gunzipSync } from "node:zlib";

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;
export const CIFAR_RECORD_BYTES = 3073;
export const CIFAR_RECORDS_PER_BATCH = 10000;

/** gunzip with an error that names the file (a truncated or damaged archive). */
export function gunzipFile(fn: string, file: string, gz: Uint8Array): Uint8Array {
  try {
    const buf = gunzipSync(gz);
    // A plain Uint8Array view (not a Buffer, whose slice() does not copy).
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${fn}: ${file} is not a complete gzip stream (${reason}); expected a whole .gz file, the file is probably truncated or damaged.`);
  }
}

function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

/** Parses an uncompressed IDX3 image file: magic 0x00000803, count, rows, cols (big-endian), then uint8 pixels. */
export function parseIdxImages(fn: string, file: string, raw: Uint8Array): { count: number; height: number; width: number; pixels: Uint8Array } {
  if (raw.length < 16) throw new Error(`${fn}: ${file} is ${raw.length} bytes; expected an IDX image header of 16 bytes.`);
  const magic = u32(raw, 0);
  if (magic !== IDX_IMAGES_MAGIC) {
    throw new Error(`${fn}: ${file} has IDX magic 0x${magic.toString(16).padStart(8, "0")}; expected 0x00000803 (uint8 images, 3 dimensions).`);
  }
  const count = u32(raw, 4);
  const height = u32(raw, 8);
  const width = u32(raw, 12);
  const expected = 16 + count * height * width;
  if (raw.length !== expected) {
    throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression; expected ${expected} (16-byte header + ${count} images of ${height}x${width}), the payload is truncated or has trailing data.`);
  }
  return { count, height, width, pixels: raw.subarray(16) };
}

/** Parses an uncompressed IDX1 label file: magic 0x00000801, count (big-endian), then uint8 labels. */
export function parseIdxLabels(fn: string, file: string, raw: Uint8Array): Uint8Array {
  if (raw.length < 8) throw new Error(`${fn}: ${file} is ${raw.length} bytes; expected an IDX label header of 8 bytes.`);
  const magic = u32(raw, 0);
  if (magic !== IDX_LABELS_MAGIC) {
    throw new Error(`${fn}: ${file} has IDX magic 0x${magic.toString(16).padStart(8, "0")}; expected 0x00000801 (uint8 labels, 1 dimension).`);
  }
  const count = u32(raw, 4);
  if (raw.length !== 8 + count) {
    throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression; expected ${8 + count} (8-byte header + ${count} labels), the payload is truncated or has trailing data.`);
  }
  return raw.subarray(8);
}

/**
 * Decodes one uncompressed CIFAR-10 binary batch (records of 1 label byte + 1024 R + 1024 G + 1024 B) into NHWC.
 * `expectedRecords` (10000 for the official batches) is checked; pass `undefined` to accept any whole number of records.
 */
export function parseCifarBatch(
  fn: string,
  file: string,
  raw: Uint8Array,
  expectedRecords: number | undefined = CIFAR_RECORDS_PER_BATCH,
): { count: number; images: Uint8Array; labels: Uint8Array } {
  if (raw.length % CIFAR_RECORD_BYTES !== 0) {
    throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression, not a multiple of the ${CIFAR_RECORD_BYTES}-byte CIFAR-10 record; the file is truncated or not a CIFAR-10 binary batch.`);
  }
  const count = raw.length / CIFAR_RECORD_BYTES;
  if (expectedRecords !== undefined && count !== expectedRecords) {
    throw new Error(`${fn}: ${file} holds ${count} CIFAR-10 records; expected ${expectedRecords}.`);
  }
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * 3072);
  for (let n = 0; n < count; n++) {
    const rec = n * CIFAR_RECORD_BYTES;
    const label = raw[rec]!;
    if (label > 9) throw new Error(`${fn}: ${file} record ${n} has label ${label}; expected 0..9.`);
    labels[n] = label;
    const out = n * 3072;
    const r = rec + 1;
    const g = r + 1024;
    const b = g + 1024;
    for (let p = 0; p < 1024; p++) {
      const o = out + p * 3;
      images[o] = raw[r + p]!;
      images[o + 1] = raw[g + p]!;
      images[o + 2] = raw[b + p]!;
    }
  }
  return { count, images, labels };
}
