// Typed access to inception-reference.json (written by tooling/inception-reference/make_reference.py with torch 1.13),
// and everything the test rebuilds from it without torch: the random weights, the input images and the two .pth
// containers. Tests only.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fmix32 } from "@dale/random";
import { legacyFile, stateDictPickle, torchZip, concat, type TensorSpec } from "../../torch/__fixtures__/torch-files";

/** Little-endian numbers in base64, row-major. */
export interface Blob<D extends string> {
  dtype: D;
  shape: number[];
  base64: string;
}

/** How to rebuild one state-dict entry (see make_reference.py's module doc). */
export type StateDictEntry =
  | { key: string; shape: number[]; init: "uniform"; first: number; scale: number; offset?: number }
  | { key: string; shape: number[]; init: "stored"; first: number }
  | { key: string; shape: []; init: "int64"; value: number };

export interface ReferenceBatch {
  name: string;
  /** Indices n of the formula's images (`referenceImage`). */
  images: number[];
  shape: [number, number, number, number];
  /** SHA-256 of the float32 input torch saw, little-endian NHWC. */
  inputSha256: string;
  features64: Blob<"<f8">;
  logits64: Blob<"<f8">;
  /** torch's own float32 forward against its float64 one, max |a - b| / max |b| per image. */
  torch32: { features: number[]; logits: number[] };
}

export interface InceptionReference {
  versions: Record<string, string>;
  seed: number;
  paramsSha256: string;
  stateDict: StateDictEntry[];
  /** bfloat16 bit patterns of the "stored" tensors. */
  stored: Blob<"<u2">;
  batches: ReferenceBatch[];
}

export function loadInceptionReference(): InceptionReference {
  return JSON.parse(readFileSync(new URL("./inception-reference.json", import.meta.url), "utf8")) as InceptionReference;
}

function bytesOf(blob: Blob<string>): Uint8Array {
  // A fresh, aligned copy: Buffer.from may hand back a view into Node's shared pool at any offset.
  return new Uint8Array(Buffer.from(blob.base64, "base64"));
}

/** A `<f8` blob as rows of numbers (`[N, K]` -> N arrays of K). */
export function float64Rows(blob: Blob<"<f8">): number[][] {
  const values = new Float64Array(bytesOf(blob).buffer);
  const [rows, cols] = blob.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));
}

/** One rebuilt state-dict tensor. */
export interface RebuiltTensor {
  key: string;
  shape: number[];
  data: Float32Array | BigInt64Array;
}

/**
 * The state dict torch used, rebuilt: "uniform" tensors are float32(offset + scale v_k) with v_k = (2 h_k + 1 - 2^32)
 * / 2^32, h_k = fmix32((k * 0x9E3779B1 + seed) mod 2^32); "stored" ones are bfloat16 values widened to float32.
 * Every step is one IEEE 754 operation, so the values are those numpy computed, bit for bit.
 */
export function rebuildStateDict(reference: InceptionReference): RebuiltTensor[] {
  const stored = new Uint16Array(bytesOf(reference.stored).buffer);
  return reference.stateDict.map((entry) => {
    const n = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.init === "int64") return { key: entry.key, shape: entry.shape, data: BigInt64Array.of(BigInt(entry.value)) };
    const data = new Float32Array(n);
    if (entry.init === "stored") {
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < n; i++) bits[i] = (stored[entry.first + i] as number) << 16;
    } else {
      const offset = entry.offset ?? 0;
      for (let i = 0; i < n; i++) {
        const h = fmix32((Math.imul(entry.first + i, 0x9e3779b1) + reference.seed) | 0) >>> 0;
        data[i] = offset + entry.scale * ((2 * h + 1 - 2 ** 32) / 2 ** 32);
      }
    }
    return { key: entry.key, shape: entry.shape, data };
  });
}

/** SHA-256 of the float32 tensors, little-endian, in state-dict order (make_reference.py's `paramsSha256`). */
export function paramsSha256(tensors: RebuiltTensor[]): string {
  const hash = createHash("sha256");
  for (const t of tensors) if (t.data instanceof Float32Array) hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return hash.digest("hex");
}

/**
 * The state dict as torch.save writes it, in both containers: the zip (torch >= 1.6) and the legacy stream (what
 * the official 2019 file most likely is). Storage keys are "0", "1", ...; num_batches_tracked is int64 (LongStorage).
 */
export function torchFiles(tensors: RebuiltTensor[]): { zip: Uint8Array; legacy: Uint8Array } {
  const specs: [string, TensorSpec][] = tensors.map((t, i) => {
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    return [t.key, { storageClass: t.data instanceof Float32Array ? "FloatStorage" : "LongStorage", key: String(i), numel: t.data.length, offset: 0, shape: t.shape, stride }];
  });
  const pickle = stateDictPickle(specs);
  const bytes = tensors.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const zip = torchZip(pickle, Object.fromEntries(bytes.map((b, i) => [String(i), b])));
  // legacyFile copies through number arrays, too slow for 96 MB: build the head (pickles and key list) with empty
  // storages, cut their 8-byte counts off, then append count and data of each storage.
  const head = legacyFile(
    pickle,
    tensors.map((t, i) => [String(i), t.data.length, new Uint8Array(0)]),
  );
  const parts: Uint8Array[] = [head.subarray(0, head.length - 8 * tensors.length)];
  tensors.forEach((t, i) => {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(t.data.length), true);
    parts.push(count, bytes[i] as Uint8Array);
  });
  return { zip, legacy: concat(parts) };
}

/** A sine-like wave of period 1 from +, -, * and floor only (make_reference.py's `wave`). */
function wave(x: number): number {
  const t = x - Math.floor(x);
  return t < 0.5 ? 16 * t * (0.5 - t) : -16 * (t - 0.5) * (1 - t);
}

/** The batch's input images, NHWC float32 in [0, 1]: the same expression as make_reference.py's `image`. */
export function referenceImages(batch: ReferenceBatch): Float32Array {
  const [, h, w, c] = batch.shape;
  const out = new Float32Array(batch.images.length * h * w * c);
  let at = 0;
  for (const n of batch.images) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let k = 0; k < c; k++) {
          const a = wave(0.44 * (i + 1) * (n + 1) / h + 0.027 * j * j / w + 0.2 * k + 0.16 * n);
          const b = wave(0.033 * j - 0.008 * i * (n + 2) + 0.11 * k + 0.25);
          out[at++] = 0.5 + 0.5 * a * b;
        }
      }
    }
  }
  return out;
}
