import * as tf from "@tensorflow/tfjs-core";
import { asWasmBackend, heapOffset, sizeOf, type WasmBackend } from "./wasm-heap";

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/**
 * Identity (and Cast to the same dtype) without a copy: the output shares the input's data, with one more reference
 * (tfjs' cpu and webgl backends do the same; tensors are immutable, and a variable's `assign` replaces its data).
 * tfjs' wasm kernel copies every element; `tf.moments` casts its input to float32 that way, and gradients clone.
 */
export function sharedIdentityKernel(original: tf.KernelFunc, kind: "Identity" | "Cast"): tf.KernelFunc {
  return ((args: KernelArgs): Info => {
    const { x } = args.inputs as { x: Info };
    const backend = asWasmBackend(args.backend);
    const same = kind === "Identity" || (args.attrs as { dtype?: string }).dtype === x.dtype;
    if (backend === null || !same || x.dtype === "string" || x.dtype === "complex64") return original(args) as Info;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as unknown as tf.KernelFunc;
}

/**
 * A strided box of `x` (`begin`, `size`) into a new tensor, as one `copyWithin` of the heap per contiguous run:
 * the run is the last axis the box cuts, times the (whole) axes after it. tfjs' wasm Slice first copies all of `x`
 * out of the heap (`readSync`), then copies each innermost row through a new subarray; Split (Concat's gradient)
 * does that once per piece.
 */
function sliceInto(backend: WasmBackend, x: Info, begin: readonly number[], size: readonly number[]): Info {
  const out = backend.makeOutput([...size], x.dtype);
  const total = sizeOf(size);
  if (total === 0) return out;
  const bytes = tf.util.bytesPerElement(x.dtype);
  const shape = x.shape;
  const rank = shape.length;
  const strides = [...tf.util.computeStrides(shape), 1];
  let cut = -1; // the last axis that the box does not cover whole
  for (let d = rank - 1; d >= 0; d--) {
    if (size[d] !== shape[d]) {
      cut = d;
      break;
    }
  }
  const heap = backend.wasm.HEAPU8; // after makeOutput, which may grow the heap
  const src0 = heapOffset(backend, x);
  const dst0 = heapOffset(backend, out);
  if (cut < 0) {
    heap.copyWithin(dst0, src0, src0 + total * bytes);
    return out;
  }
  const run = (size[cut] as number) * (strides[cut] as number) * bytes;
  let src = 0;
  for (let d = 0; d <= cut; d++) src += (begin[d] as number) * (strides[d] as number);
  const rows = total / (run / bytes);
  const index = new Array<number>(cut).fill(0);
  let s = src0 + src * bytes;
  let dst = dst0;
  for (let r = 0; r < rows; r++) {
    heap.copyWithin(dst, s, s + run);
    dst += run;
    // Next row: odometer over the axes before `cut`.
    for (let d = cut - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      s += (strides[d] as number) * bytes;
      if ((index[d] as number) < (size[d] as number)) break;
      s -= (size[d] as number) * (strides[d] as number) * bytes;
      index[d] = 0;
    }
  }
  return out;
}

/** Slice on wasm by heap row copies ({@link sliceInto}); strings go to tfjs' kernel. */
export function sliceKernel(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: KernelArgs): Info => {
    const { x } = args.inputs as { x: Info };
    const backend = asWasmBackend(args.backend);
    if (backend === null || x.dtype === "string" || x.dtype === "complex64") return original(args) as Info;
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size) as [number[], number[]];
    return sliceInto(backend, x, b, s);
  }) as unknown as tf.KernelFunc;
}

/** SplitV (Concat's gradient) on wasm: one {@link sliceInto} per piece; strings go to tfjs' kernel. */
export function splitVKernel(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: KernelArgs): Info[] => {
    const { x } = args.inputs as { x: Info };
    const backend = asWasmBackend(args.backend);
    if (backend === null || x.dtype === "string" || x.dtype === "complex64") return original(args) as unknown as Info[];
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    const outs: Info[] = [];
    try {
      for (const s of sizes) {
        const size = [...x.shape];
        size[ax] = s;
        outs.push(sliceInto(backend, x, begin, size));
        begin[ax] = (begin[ax] as number) + s;
      }
    } catch (e) {
      for (const o of outs) backend.disposeData(o.dataId);
      throw e;
    }
    return outs;
  }) as unknown as tf.KernelFunc;
}

/**
 * Concat on wasm as heap row copies: output row b is input 0's row b, then input 1's, ... (rows: the axes before
 * `axis`), one `copyWithin` each, where tfjs' kernel makes a subarray object per row. Strings go to tfjs' kernel.
 */
export function concatKernel(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: KernelArgs): Info => {
    const inputs = args.inputs as unknown as Info[]; // Concat's inputs are a list
    const backend = asWasmBackend(args.backend);
    const first = inputs[0];
    if (backend === null || first === undefined || first.dtype === "string" || first.dtype === "complex64" || inputs.some((t) => t.dtype !== first.dtype)) {
      return original(args) as Info;
    }
    const ax = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, first.shape)[0] as number;
    tf.backend_util.assertParamsConsistent(
      inputs.map((t) => t.shape),
      ax,
    );
    const present = inputs.filter((t) => sizeOf(t.shape) > 0);
    if (present.length <= 1) return original(args) as Info;
    const outShape = tf.backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      ax,
    );
    const out = backend.makeOutput(outShape, first.dtype);
    const bytes = tf.util.bytesPerElement(first.dtype);
    const rows = sizeOf(first.shape.slice(0, ax));
    const widths = present.map((t) => sizeOf(t.shape.slice(ax)) * bytes);
    const starts = present.map((t) => heapOffset(backend, t));
    const heap = backend.wasm.HEAPU8; // after makeOutput, which may grow the heap
    let dst = heapOffset(backend, out);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < present.length; i++) {
        const w = widths[i] as number;
        const s = (starts[i] as number) + r * w;
        heap.copyWithin(dst, s, s + w);
        dst += w;
      }
    }
    return out;
  }) as unknown as tf.KernelFunc;
}
