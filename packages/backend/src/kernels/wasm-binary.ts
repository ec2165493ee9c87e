import * as tf from "@tensorflow/tfjs-core";
import { asWasmBackend, heapF32, reshaped, sizeOf } from "./wasm-heap";

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/**
 * How a broadcasting element-wise op `out = a (op) b` is handed to tfjs' wasm kernel so that its innermost loop is
 * long. One operand (`full`) has the output's shape; the other (`small`) broadcasts over some axes.
 *
 * tfjs' wasm kernel costs about 0.3 + 15 / n ns per output element, where n is the length of the innermost run
 * along which neither operand changes how it is read (measured on this project's CPU): fast for `[B, H, W, C] + [C]`
 * (n = C), twenty times slower for group norm's `[B, H, W, G, C/G] - [B, 1, 1, G, 1]` (n = C/G = 2). The plan:
 *
 * 1. Drop the output's size-1 axes and merge neighbouring axes along which `small` is read the same way (both
 *    full, or both broadcast): group norm's case becomes `[B, HW, G, K] - [B, 1, G, 1]` (K = C/G).
 * 2. If the last merged axis is shorter than `minRun`, take trailing axes until their product L is at least `minRun`
 *    (a long axis P is split into `[P / k, k]`, k the smallest divisor of P that is enough, so that L stays near
 *    `minRun`) and expand `small` over them (in JS, on its few elements): `small'[o, s] = small[o, idx(s)]`, `o` over
 *    the axes before them along which `small` is full. With C = 32 channels, group norm's case becomes
 *    `[B, HW / 2, 2 C] - [B, 1, 2 C]` (n = 64), and a bias `[B, H, W, 8] + [8]` becomes `[BHW / 8, 64] + [1, 64]`.
 *
 * Returns null when the wasm kernel needs no help: equal sizes, a scalar, or both operands broadcasting.
 */
export interface BroadcastPlan {
  /** The input with the output's number of elements. */
  full: "a" | "b";
  /** The output shape (numpy broadcasting). */
  outShape: number[];
  /** The full operand's shape as the wasm kernel sees it (merged axes, the expanded ones last). */
  fullShape: number[];
  /** The broadcast operand's shape as the wasm kernel sees it (1 along the axes it broadcasts over). */
  smallShape: number[];
  /**
   * When set, `small` is first expanded to `smallShape`: element `o * inner + s` is `small[o * innerSource +
   * index[s]]` for `o < outer`, `s < inner`.
   */
  expand: { outer: number; inner: number; innerSource: number; index: Int32Array } | null;
}

/**
 * See {@link BroadcastPlan}. `minRun` is an innermost run long enough for tfjs' kernel (64: 0.5 ns per element
 * against 0.3 at best); an axis is taken whole into the expanded run while that keeps it at most `maxRun` long.
 */
export function planBroadcast(aShape: readonly number[], bShape: readonly number[], minRun = 64, maxRun = 1024): BroadcastPlan | null {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape as number[], bShape as number[]);
  const outSize = sizeOf(outShape);
  const aSize = sizeOf(aShape);
  const bSize = sizeOf(bShape);
  if (aSize === bSize || outSize === 0) return null;
  const full = aSize === outSize ? "a" : bSize === outSize ? "b" : null;
  if (full === null) return null;
  const smallShape = full === "a" ? bShape : aShape;
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - smallShape.length).fill(1), ...smallShape];

  // 1. Merged axes: size, and whether `small` is full along them.
  const dims: { size: number; f: boolean }[] = [];
  for (let i = 0; i < rank; i++) {
    const size = outShape[i] as number;
    if (size === 1) continue;
    const f = padded[i] === size;
    const last = dims[dims.length - 1];
    if (last !== undefined && last.f === f) last.size *= size;
    else dims.push({ size, f });
  }
  if (dims.length < 2) return null; // a scalar against a vector: tfjs' kernel is fast
  const last = dims[dims.length - 1] as { size: number; f: boolean };
  if (last.size >= minRun) {
    return { full, outShape, fullShape: dims.map((d) => d.size), smallShape: dims.map((d) => (d.f ? d.size : 1)), expand: null };
  }

  // 2. Trailing axes with product >= minRun, splitting the last one taken if it is long: [..., P, n] becomes
  //    [..., P / k, k, n] with k the smallest divisor of P with k n >= minRun.
  const prefix = dims.slice();
  const suffix: { size: number; f: boolean }[] = [];
  let inner = 1;
  while (inner < minRun && prefix.length > 0) {
    const d = prefix.pop() as { size: number; f: boolean };
    let k = d.size;
    if (inner * d.size > maxRun) {
      const want = Math.ceil(minRun / inner);
      for (let c = want; c < d.size; c++) {
        if (d.size % c === 0) {
          k = c;
          break;
        }
      }
    }
    if (k < d.size) prefix.push({ size: d.size / k, f: d.f });
    suffix.unshift({ size: k, f: d.f });
    inner *= k;
  }
  const index = new Int32Array(inner);
  // Row-major walk over the suffix axes; `small`'s stride along an axis is 0 where it broadcasts.
  let innerSource = 1;
  const strides = suffix.map(() => 0);
  for (let k = suffix.length - 1; k >= 0; k--) {
    const d = suffix[k] as { size: number; f: boolean };
    if (d.f) {
      strides[k] = innerSource;
      innerSource *= d.size;
    }
  }
  const counter = suffix.map(() => 0);
  let src = 0;
  for (let s = 0; s < inner; s++) {
    index[s] = src;
    for (let k = suffix.length - 1; k >= 0; k--) {
      const size = (suffix[k] as { size: number }).size;
      const stride = strides[k] as number;
      counter[k] = (counter[k] as number) + 1;
      src += stride;
      if ((counter[k] as number) < size) break;
      counter[k] = 0;
      src -= stride * size;
    }
  }
  const outer = prefix.reduce((n, d) => (d.f ? n * d.size : n), 1);
  return {
    full,
    outShape,
    fullShape: [...prefix.map((d) => d.size), inner],
    smallShape: [...prefix.map((d) => (d.f ? d.size : 1)), inner],
    expand: { outer, inner, innerSource, index },
  };
}

/**
 * A broadcasting float32 element-wise kernel for wasm (Add, Sub, Multiply, RealDiv, SquaredDifference):
 *
 *     out[i] = a[ia(i)] (op) b[ib(i)],   shapes broadcast as in numpy
 *
 * computed by tfjs' own kernel (`original`) after {@link planBroadcast} has merged the axes and, where the innermost
 * run is short, expanded the broadcast operand: the same arithmetic, in a loop that XNNPACK runs fast. Other dtypes,
 * same-size operands and other backends go to `original` unchanged.
 */
export function broadcastBinaryKernel(original: tf.KernelFunc, minRun = 64): tf.KernelFunc {
  return ((args: KernelArgs): Info => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const backend = asWasmBackend(args.backend);
    if (backend === null || a.dtype !== "float32" || b.dtype !== "float32") return original(args) as Info;
    const plan = planBroadcast(a.shape, b.shape, minRun);
    if (plan === null) return original(args) as Info;
    const small = plan.full === "a" ? b : a;
    let expanded: Info | null = null;
    if (plan.expand !== null) {
      const { outer, inner, innerSource, index } = plan.expand;
      expanded = backend.makeOutput(plan.smallShape, "float32");
      // Views taken after the allocation, which may have grown (and so replaced) the heap's buffer.
      const src = heapF32(backend, small);
      const dst = heapF32(backend, expanded);
      for (let o = 0, d = 0; o < outer; o++) {
        const base = o * innerSource;
        for (let s = 0; s < inner; s++, d++) dst[d] = src[base + (index[s] as number)] as number;
      }
    }
    const smallIn = expanded ?? reshaped(small, plan.smallShape);
    const fullIn = reshaped(plan.full === "a" ? a : b, plan.fullShape);
    try {
      const out = original({
        ...args,
        inputs: plan.full === "a" ? { a: fullIn, b: smallIn } : { a: smallIn, b: fullIn },
      }) as Info;
      out.shape = plan.outShape;
      return out;
    } finally {
      if (expanded !== null) backend.disposeData(expanded.dataId);
    }
  }) as unknown as tf.KernelFunc;
}
