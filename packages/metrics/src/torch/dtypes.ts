import { float16ToFloat32 } from "@dale/io";

/** Element types of PyTorch tensors that the reader decodes, named as `torch.<dtype>` prints them. */
export type TorchDtype = "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

/**
 * Row-major values of a tensor as read: float32 for float32, float16 and bfloat16 (both widen exactly), Float64Array
 * for float64, BigInt64Array for int64 (exact), the matching integer array for the other integer types, and a
 * Uint8Array of 0 and 1 for bool.
 */
export type TorchTensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** The storage classes a persistent id may name (`torch.FloatStorage`, ...), and the dtype of their elements. */
export const STORAGE_DTYPES: Readonly<Record<string, TorchDtype>> = {
  FloatStorage: "float32",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  DoubleStorage: "float64",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<TorchDtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Bytes per element of the array the reader returns for `dtype` (float16 and bfloat16 widen to float32). */
export const OUTPUT_BYTES: Readonly<Record<TorchDtype, number>> = { ...DTYPE_BYTES, float16: 4, bfloat16: 4 };

/**
 * A reader of single elements: `get(i)` is element `i` of the little-endian `bytes`, as the array of `emptyData` holds
 * it (bool as 0 or 1). The caller keeps `i` inside `bytes`.
 */
export function elementReader(bytes: Uint8Array, dtype: TorchDtype): (i: number) => number | bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "float32":
      return (i) => view.getFloat32(4 * i, true);
    case "float64":
      return (i) => view.getFloat64(8 * i, true);
    case "float16":
      return (i) => float16ToFloat32(view.getUint16(2 * i, true));
    case "bfloat16": {
      const bits = new Uint32Array(1);
      const value = new Float32Array(bits.buffer);
      return (i) => {
        bits[0] = view.getUint16(2 * i, true) << 16;
        return value[0] as number;
      };
    }
    case "int64":
      return (i) => view.getBigInt64(8 * i, true);
    case "int32":
      return (i) => view.getInt32(4 * i, true);
    case "int16":
      return (i) => view.getInt16(2 * i, true);
    case "int8":
      return (i) => view.getInt8(i);
    case "uint8":
      return (i) => view.getUint8(i);
    case "bool":
      return (i) => (view.getUint8(i) === 0 ? 0 : 1);
  }
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `count` little-endian elements of `dtype` starting at `bytes[0]` into a fresh typed array (a copy, so the
 * result is aligned and independent of the file buffer). `bytes` must hold at least `count * DTYPE_BYTES[dtype]` bytes.
 */
export function decodeElements(bytes: Uint8Array, dtype: TorchDtype, count: number): TorchTensorData {
  const size = DTYPE_BYTES[dtype];
  const n = count * size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  switch (dtype) {
    case "float16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16ToFloat32(view.getUint16(2 * i, true));
      return out;
    }
    case "bfloat16": {
      // bfloat16 is the top half of a float32: shift the bits up.
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case "bool": {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    }
    default:
      break;
  }
  // Same layout in memory: copy the bytes (aligned), swapping on a big-endian host.
  // A fresh copy (not bytes.slice: on a Node Buffer that is a view into a shared pool, not a copy).
  const copy = new Uint8Array(n);
  copy.set(bytes.subarray(0, n));
  if (!HOST_LITTLE_ENDIAN && size > 1) {
    for (let i = 0; i < n; i += size) copy.subarray(i, i + size).reverse();
  }
  switch (dtype) {
    case "float32":
      return new Float32Array(copy.buffer, 0, count);
    case "float64":
      return new Float64Array(copy.buffer, 0, count);
    case "int64":
      return new BigInt64Array(copy.buffer, 0, count);
    case "int32":
      return new Int32Array(copy.buffer, 0, count);
    case "int16":
      return new Int16Array(copy.buffer, 0, count);
    case "int8":
      return new Int8Array(copy.buffer, 0, count);
    case "uint8":
      return copy;
  }
}

/** An empty array of the type `decodeElements` returns for `dtype`. */
export function emptyData(dtype: TorchDtype, count: number): TorchTensorData {
  switch (dtype) {
    case "float32":
    case "float16":
    case "bfloat16":
      return new Float32Array(count);
    case "float64":
      return new Float64Array(count);
    case "int64":
      return new BigInt64Array(count);
    case "int32":
      return new Int32Array(count);
    case "int16":
      return new Int16Array(count);
    case "int8":
      return new Int8Array(count);
    case "uint8":
    case "bool":
      return new Uint8Array(count);
  }
}
