// The wasm backend's convolutions through oneDNN (the optional native addon @dale/onednn), in Node.
//
// wasm SIMD is 128 bits wide; oneDNN's JIT kernels use the CPU's full width (AVX-512 here) and its own OpenMP threads.
// The addon reads and writes the tensors where tfjs' wasm backend keeps them, in the wasm memory, by byte offset: no
// copies. Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter are replaced for NHWC float32 (every case tfjs' wasm
// backend serves), and BatchMatMul for float32 with batches equal or 1 (transposes are read in place, through
// strides); anything else goes to the kernel that was registered before (tfjs' own, or Dale's).
import * as tf from "@tensorflow/tfjs-core";
import { asWasmBackend, heapOffset, sizeOf, type WasmBackend } from "./wasm-heap";

type Info = tf.TensorInfo;
type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;
type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/** The functions of @dale/onednn's addon that the kernels call (its `OneDnn` type, restated to keep it optional). */
export interface OneDnnAddon {
  conv2d(heap: Uint8Array, a: number, b: number, c: number, dims: Int32Array): void;
  conv2dBackpropInput(heap: Uint8Array, a: number, b: number, c: number, dims: Int32Array): void;
  conv2dBackpropFilter(heap: Uint8Array, a: number, b: number, c: number, dims: Int32Array): void;
  matmul(heap: Uint8Array, a: number, b: number, c: number, dims: Int32Array): void;
  setThreads(n: number): void;
  threads(): number;
}

export const ONEDNN_KERNELS = ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "BatchMatMul"] as const;
type Name = (typeof ONEDNN_KERNELS)[number];

const BACKEND = "wasm";
/** The kernel each replaced, to fall back to and to put back. */
const replaced = new Map<Name, tf.KernelConfig | undefined>();

/** The whole wasm memory as bytes: read at each call, since the memory may have grown (and on threads it is shared). */
function heapBytes(b: WasmBackend): Uint8Array {
  const memory = (b.wasm as unknown as { wasmMemory?: WebAssembly.Memory }).wasmMemory;
  const buffer = memory?.buffer ?? b.wasm.HEAPU8.buffer;
  return new Uint8Array(buffer);
}

function dims(info: tf.backend_util.Conv2DInfo): Int32Array {
  const p = info.padInfo;
  return new Int32Array([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight, info.filterWidth, info.outChannels,
    info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.left, p.bottom, p.right,
  ]);
}

/**
 * Whether oneDNN computes this problem as tfjs defines it: the output size that tfjs computed must be what oneDNN
 * derives from the pads, `(in + pads - effective filter) / stride + 1` rounded down, and no pad may be negative.
 */
function servable(info: tf.backend_util.Conv2DInfo): boolean {
  const p = info.padInfo;
  const effH = (info.filterHeight - 1) * info.dilationHeight + 1;
  const effW = (info.filterWidth - 1) * info.dilationWidth + 1;
  return (
    p.top >= 0 && p.left >= 0 && p.bottom >= 0 && p.right >= 0 &&
    Math.floor((info.inHeight + p.top + p.bottom - effH) / info.strideHeight) + 1 === info.outHeight &&
    Math.floor((info.inWidth + p.left + p.right - effW) / info.strideWidth) + 1 === info.outWidth &&
    info.outHeight > 0 && info.outWidth > 0 && info.batchSize > 0 && info.inChannels > 0 && info.outChannels > 0
  );
}

function fallback(name: Name, args: Args): Info {
  const k = replaced.get(name);
  if (k === undefined) throw new Error(`@dale/backend: the wasm backend has no ${name} kernel for this case.`);
  return k.kernelFunc(args) as Info;
}

/** BatchMatMul: out[i] = op(a[i]) op(b[i]) over one flattened batch axis, either side's batch equal to the output's or 1. */
function batchMatMul(addon: OneDnnAddon): tf.KernelFunc {
  return ((args: Args): Info => {
    const b = asWasmBackend(args.backend);
    const { a: x, b: y } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (b === null || x.dtype !== "float32" || y.dtype !== "float32" || x.shape.length < 2 || y.shape.length < 2) {
      return fallback("BatchMatMul", args);
    }
    const ar = x.shape.length;
    const br = y.shape.length;
    const m = x.shape[transposeA ? ar - 1 : ar - 2]!;
    const k = x.shape[transposeA ? ar - 2 : ar - 1]!;
    const kb = y.shape[transposeB ? br - 1 : br - 2]!;
    const n = y.shape[transposeB ? br - 2 : br - 1]!;
    if (k !== kb) return fallback("BatchMatMul", args); // its error message
    const outBatch = tf.backend_util.assertAndGetBroadcastShape(x.shape.slice(0, -2), y.shape.slice(0, -2));
    const batch = sizeOf(outBatch);
    const batchA = sizeOf(x.shape.slice(0, -2));
    const batchB = sizeOf(y.shape.slice(0, -2));
    const simple = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);
    if (!simple || batch * m * n * k === 0) return fallback("BatchMatMul", args);
    const out = b.makeOutput([...outBatch, m, n], "float32");
    const dims = new Int32Array([batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0]);
    addon.matmul(heapBytes(b), heapOffset(b, x), heapOffset(b, y), heapOffset(b, out), dims);
    return out;
  }) as unknown as tf.KernelFunc;
}

function makeKernel(name: Name, addon: OneDnnAddon): tf.KernelFunc {
  if (name === "BatchMatMul") return batchMatMul(addon);
  return ((args: Args): Info => {
    const b = asWasmBackend(args.backend);
    const attrs = args.attrs as unknown as {
      strides: [number, number] | number;
      pad: Pad;
      dataFormat?: "NHWC" | "NCHW";
      dilations?: [number, number] | number;
      dimRoundingMode?: "floor" | "round" | "ceil";
      inputShape?: [number, number, number, number];
      filterShape?: [number, number, number, number];
    };
    if (b === null || (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC")) return fallback(name, args);
    const ins = Object.values(args.inputs) as Info[];
    if (ins.some((t) => t.dtype !== "float32")) return fallback(name, args);
    let info: tf.backend_util.Conv2DInfo;
    if (name === "Conv2D") {
      const { x, filter } = args.inputs as { x: Info; filter: Info };
      info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
        attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode,
      );
    } else if (name === "Conv2DBackpropInput") {
      const { filter } = args.inputs as { filter: Info };
      info = tf.backend_util.computeConv2DInfo(
        attrs.inputShape!, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
      );
    } else {
      const { x } = args.inputs as { x: Info };
      info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], attrs.filterShape!, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
      );
    }
    if (!servable(info)) return fallback(name, args);
    const outShape =
      name === "Conv2D" ? info.outShape : name === "Conv2DBackpropInput" ? info.inShape : [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
    const out = b.makeOutput(outShape as number[], "float32");
    if (sizeOf(outShape as number[]) === 0) return out;
    const d = dims(info);
    if (name === "Conv2D") {
      const { x, filter } = args.inputs as { x: Info; filter: Info };
      addon.conv2d(heapBytes(b), heapOffset(b, x), heapOffset(b, filter), heapOffset(b, out), d);
    } else if (name === "Conv2DBackpropInput") {
      const { dy, filter } = args.inputs as { dy: Info; filter: Info };
      addon.conv2dBackpropInput(heapBytes(b), heapOffset(b, dy), heapOffset(b, filter), heapOffset(b, out), d);
    } else {
      const { x, dy } = args.inputs as { x: Info; dy: Info };
      addon.conv2dBackpropFilter(heapBytes(b), heapOffset(b, x), heapOffset(b, dy), heapOffset(b, out), d);
    }
    return out;
  }) as unknown as tf.KernelFunc;
}

/**
 * Registers the oneDNN convolutions for the wasm backend (replacing what is registered now, which stays the fallback
 * outside NHWC float32). Idempotent. `initBackend()` calls it in Node when @dale/onednn loads.
 */
export function registerOneDnnKernels(addon: OneDnnAddon): void {
  for (const name of ONEDNN_KERNELS) {
    if (!replaced.has(name)) replaced.set(name, tf.getKernel(name, BACKEND));
    const before = replaced.get(name);
    if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      kernelFunc: makeKernel(name, addon),
      ...(before?.setupFunc ? { setupFunc: before.setupFunc } : {}),
      ...(before?.disposeFunc ? { disposeFunc: before.disposeFunc } : {}),
    });
  }
}

/** Puts back the kernels that {@link registerOneDnnKernels} replaced. */
export function unregisterOneDnnKernels(): void {
  for (const [name, before] of replaced) {
    tf.unregisterKernel(name, BACKEND);
    if (before !== undefined) tf.registerKernel(before);
  }
  replaced.clear();
}

/** The kernels the oneDNN ones replaced, by name (undefined where the backend had none). Empty when not registered. */
export function replacedOneDnnKernels(): Record<string, tf.KernelFunc | undefined> {
  const out: Record<string, tf.KernelFunc | undefined> = {};
  for (const [name, before] of replaced) out[name] = before?.kernelFunc;
  return out;
}
