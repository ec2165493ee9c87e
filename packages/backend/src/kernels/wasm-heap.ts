// Access to tfjs' wasm backend below its kernel API: the heap, tensor ids, and the backend's exported C functions.
// Everything here reads fields of `BackendWasm` (tfjs-backend-wasm 4.x) that its own kernels use; `asWasmBackend`
// checks that they are there, and Dale's wasm kernels fall back to tfjs' own when they are not.
import type * as tf from "@tensorflow/tfjs-core";

type Info = tf.TensorInfo;

/** The parts of tfjs' `BackendWasm` that Dale's wasm kernels use. */
export interface WasmBackend extends tf.KernelBackend {
  wasm: {
    HEAPU8: Uint8Array;
    cwrap(name: string, returnType: null, argTypes: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
}

/** The backend as a {@link WasmBackend}, or null when it lacks any field the fast paths need. */
export function asWasmBackend(backend: unknown): WasmBackend | null {
  const b = backend as Partial<WasmBackend> | null;
  const ok =
    b !== null &&
    typeof b === "object" &&
    typeof b.wasm?.cwrap === "function" &&
    typeof b.wasm.tfjs?.registerTensor === "function" &&
    typeof b.wasm.tfjs.disposeData === "function" &&
    typeof b.dataIdMap?.get === "function" &&
    typeof b.dataIdNextNumber === "number" &&
    typeof b.makeOutput === "function" &&
    typeof b.typedArrayFromHeap === "function";
  return ok ? (b as WasmBackend) : null;
}

/** The same data seen with another shape (what tfjs' Reshape kernel returns, without touching the ref count). */
export function reshaped(x: Info, shape: number[]): Info {
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** The float32 elements of a tensor, as a view of the wasm heap (valid until the next allocation grows it). */
export function heapF32(backend: WasmBackend, x: Info): Float32Array {
  return backend.typedArrayFromHeap(x) as Float32Array;
}

const cwrapped = new WeakMap<object, Map<string, (...args: unknown[]) => void>>();

/**
 * One of the backend's exported C functions, wrapped once per backend instance (tfjs' kernels do the same in their
 * `setupFunc`, into module variables that Dale cannot reach).
 */
export function wasmFunction(backend: WasmBackend, name: string, argTypes: string[]): (...args: unknown[]) => void {
  let fns = cwrapped.get(backend.wasm);
  if (fns === undefined) cwrapped.set(backend.wasm, (fns = new Map()));
  let fn = fns.get(name);
  if (fn === undefined) fns.set(name, (fn = backend.wasm.cwrap(name, null, argTypes)));
  return fn;
}

/** A shape as the byte array that tfjs' C functions take (`'array'` arguments of int32). */
export function shapeBytes(shape: readonly number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/**
 * Runs `body` with a function that makes views: tensor ids that the C side sees as `size` float32 elements starting
 * `offset` elements into `base`'s memory, without copying. Every view is unregistered when `body` returns or throws
 * (the C side also drops any operator it cached for the id then); the memory stays `base`'s.
 */
export function withViews<T>(backend: WasmBackend, body: (view: (base: Info, offset: number, size: number) => number) => T): T {
  const ids: number[] = [];
  const view = (base: Info, offset: number, size: number): number => {
    const data = backend.dataIdMap.get(base.dataId);
    if (data === undefined) throw new Error("@dale/backend: a wasm view of a tensor that the backend does not hold.");
    const id = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(id, size, data.memoryOffset + 4 * offset);
    ids.push(id);
    return id;
  };
  try {
    return body(view);
  } finally {
    for (const id of ids) backend.wasm.tfjs.disposeData(id);
  }
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackend, x: Info): number {
  const data = backend.dataIdMap.get(x.dataId);
  if (data === undefined) throw new Error("@dale/backend: a tensor that the wasm backend does not hold.");
  return data.memoryOffset;
}

/** The id by which the C side knows a tensor. */
export function tensorId(backend: WasmBackend, x: Info): number {
  const data = backend.dataIdMap.get(x.dataId);
  if (data === undefined) throw new Error("@dale/backend: a tensor that the wasm backend does not hold.");
  return data.id;
}

/** Product of the entries (1 for an empty shape). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
