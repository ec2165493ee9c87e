export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;
export const CIFAR_RECORD_BYTES = 3073;
export const CIFAR_RECORDS_PER_BATCH = 10000;

/** What an IDX file must hold; each field left out is not checked. */
export interface IdxExpectation {
  count?: number;
  height?: number;
  width?: number;
  /** Names the dataset and split in errors, e.g. "the mnist test split". */
  of?: string;
}

function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

/**
 * Parses an uncompressed IDX3 image file: magic 0x00000803, count, rows, cols (big-endian), then uint8 pixels. The
 * count and both dimensions must be positive, and equal `expected`'s where given (e.g. 28x28 for MNIST).
 */
export function parseIdxImages(
  fn: string,
  file: string,
  raw: Uint8Array,
  expected: IdxExpectation = {},
): { count: number; height: number; width: number; pixels: Uint8Array } {
  if (raw.length < 16) throw new Error(`${fn}: ${file} is ${raw.length} bytes; expected an IDX image header of 16 bytes.`);
  const magic = u32(raw, 0);
  if (magic !== IDX_IMAGES_MAGIC) {
    throw new Error(`${fn}: ${file} has IDX magic 0x${magic.toString(16).padStart(8, "0")}; expected 0x00000803 (uint8 images, 3 dimensions).`);
  }
  const count = u32(raw, 4);
  const height = u32(raw, 8);
  const width = u32(raw, 12);
  const of = expected.of === undefined ? "" : ` for ${expected.of}`;
  if (count === 0) throw new Error(`${fn}: ${file} declares 0 images; expected ${expected.count ?? "at least 1"}${of}.`);
  const { height: wantHeight, width: wantWidth } = expected;
  if (height === 0 || width === 0 || (wantHeight !== undefined && height !== wantHeight) || (wantWidth !== undefined && width !== wantWidth)) {
    const want = wantHeight === undefined && wantWidth === undefined ? "positive dimensions" : `${wantHeight ?? "any"}x${wantWidth ?? "any"}`;
    throw new Error(`${fn}: ${file} declares images of ${height}x${width}; expected ${want}${of}.`);
  }
  if (expected.count !== undefined && count !== expected.count) {
    throw new Error(`${fn}: ${file} declares ${count} images; expected ${expected.count}${of}.`);
  }
  const size = 16 + count * height * width;
  if (raw.length !== size) {
    throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression; expected ${size} (16-byte header + ${count} images of ${height}x${width}), the payload is truncated or has trailing data.`);
  }
  return { count, height, width, pixels: raw.subarray(16) };
}

/** Parses an uncompressed IDX1 label file: magic 0x00000801, count (big-endian), then uint8 labels; the count must be positive, and `expected.count` where given. */
export function parseIdxLabels(fn: string, file: string, raw: Uint8Array, expected: Pick<IdxExpectation, "count" | "of"> = {}): Uint8Array {
  if (raw.length < 8) throw new Error(`${fn}: ${file} is ${raw.length} bytes; expected an IDX label header of 8 bytes.`);
  const magic = u32(raw, 0);
  if (magic !== IDX_LABELS_MAGIC) {
    throw new Error(`${fn}: ${file} has IDX magic 0x${magic.toString(16).padStart(8, "0")}; expected 0x00000801 (uint8 labels, 1 dimension).`);
  }
  const count = u32(raw, 4);
  const of = expected.of === undefined ? "" : ` for ${expected.of}`;
  if (count === 0 || (expected.count !== undefined && count !== expected.count)) {
    throw new Error(`${fn}: ${file} declares ${count} labels; expected ${expected.count ?? "at least 1"}${of}.`);
  }
  if (raw.length !== 8 + count) {
    throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression; expected ${8 + count} (8-byte header + ${count} labels), the payload is truncated or has trailing data.`);
  }
  return raw.subarray(8);
}

/**
 * Decodes one uncompressed CIFAR-10 binary batch (records of 1 label byte + 1024 R + 1024 G + 1024 B) into NHWC.
 * `expectedRecords` (default 10000, as in the official batches) is checked; pass `null` to accept any positive whole
 * number of records (`undefined` means the default, as for any default parameter).
 */
export function parseCifarBatch(
  fn: string,
  file: string,
  raw: Uint8Array,
  expectedRecords: number | null = CIFAR_RECORDS_PER_BATCH,
): { count: number; images: Uint8Array; labels: Uint8Array } {
  if (expectedRecords !== null && (!Number.isInteger(expectedRecords) || expectedRecords < 1)) {
    throw new Error(`${fn}: expectedRecords must be a positive integer or null, got ${String(expectedRecords)}.`);
  }
  if (raw.length === 0) throw new Error(`${fn}: ${file} holds no CIFAR-10 records (0 bytes after decompression); expected ${expectedRecords ?? "at least one"} records of ${CIFAR_RECORD_BYTES} bytes.`);
  if (raw.length % CIFAR_RECORD_BYTES !== 0) {
    throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression, not a multiple of the ${CIFAR_RECORD_BYTES}-byte CIFAR-10 record; the file is truncated or not a CIFAR-10 binary batch.`);
  }
  const count = raw.length / CIFAR_RECORD_BYTES;
  if (expectedRecords !== null && count !== expectedRecords) {
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
