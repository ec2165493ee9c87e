import * as tf from "@tensorflow/tfjs-core";
import { asWasmBackend, heapF32, reshaped, shapeBytes, sizeOf, wasmFunction, withViews, type WasmBackend } from "./wasm-heap";

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/**
 * The reduction of `shape` over `axes` with size-1 axes dropped and neighbouring axes of the same kind merged:
 * `[B, H, W, G, K]` over `[1, 2, 4]` is `[{B, keep}, {HW, reduce}, {G, keep}, {K, reduce}]`.
 */
export function mergeReduceAxes(shape: readonly number[], axes: readonly number[]): { size: number; reduce: boolean }[] {
  const dims: { size: number; reduce: boolean }[] = [];
  shape.forEach((size, i) => {
    if (size === 1) return;
    const reduce = axes.includes(i);
    const last = dims[dims.length - 1];
    if (last !== undefined && last.reduce === reduce) last.size *= size;
    else dims.push({ size, reduce });
  });
  return dims;
}

/**
 * Sum or Mean over any axes on wasm, as reductions over the innermost axis (tfjs' fast case) and transposes of rank
 * at most 3, instead of tfjs' one transpose of the full rank followed by an innermost reduction, slow from rank 4 on
 * (group norm reduces `[B, H, W, G, C/G]` over H, W and C/G: a rank-5 transpose, 3 to 6 times slower).
 *
 * With the axes merged ({@link mergeReduceAxes}) into `[g_0, ..., g_{k-1}]`, repeat until nothing is left to reduce:
 *
 * - the innermost axis is reduced and long (>= 16), or the only one left: reduce it with tfjs' kernel
 *   (`[..., R] -> [...]`);
 * - else take the last reduced axis P that is not innermost, with O the product of the axes before it and R of those
 *   after: a rank-3 transpose to `[O, R, P]` (fast) and an innermost reduction; with O = 1 (`[P, R]` over P, e.g. a
 *   bias gradient) a pairwise sum of rows ({@link sumRows}).
 *
 * Group norm's `[B, HW, G, K]` over HW and K is a transpose to `[B, G K, HW]`, a reduction over HW, then one over
 * K. A mean of equal-sized means is the mean, so Mean divides at every step. Other dtypes, reductions over the
 * innermost axes only, and other backends go to `original` (tfjs' kernel) unchanged.
 */
export function reduceKernel(kind: "Sum" | "Mean", original: tf.KernelFunc, backendName = "wasm"): tf.KernelFunc {
  return ((args: KernelArgs): Info => {
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const backend = asWasmBackend(args.backend);
    if (backend === null || x.dtype !== "float32" || sizeOf(x.shape) === 0) return original(args) as Info;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const dims = mergeReduceAxes(x.shape, axes);
    const reduced = dims.filter((d) => d.reduce).length;
    if (reduced === 0 || (reduced === 1 && (dims[dims.length - 1] as { reduce: boolean }).reduce)) return original(args) as Info;
    const outShape = keepDims ? x.shape.map((s, i) => (axes.includes(i) ? 1 : s)) : x.shape.filter((_, i) => !axes.includes(i));
    const transpose = tf.getKernel("Transpose", backendName)?.kernelFunc;
    if (transpose === undefined) return original(args) as Info;
    const call = (k: tf.KernelFunc, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info =>
      k({ inputs: inputs as tf.NamedTensorInfoMap, backend: args.backend, attrs: attrs as tf.NamedAttrMap }) as Info;
    const reduceLast = (t: Info, n: number): Info => call(original, { x: reshaped(t, [sizeOf(t.shape) / n, n]) }, { axis: [1], keepDims: false });

    let cur = x;
    const step = (next: Info) => {
      if (cur !== x) backend.disposeData(cur.dataId);
      cur = next;
    };
    try {
      for (;;) {
        const last = dims[dims.length - 1] as { size: number; reduce: boolean };
        const count = dims.filter((d) => d.reduce).length;
        if (count === 0) break;
        if (last.reduce && (last.size >= 16 || count === 1)) {
          step(reduceLast(cur, last.size));
          dims.pop();
          continue;
        }
        // The last reduced axis that is not innermost: [O, P, R].
        let i = dims.length - 2;
        while (!(dims[i] as { reduce: boolean }).reduce) i--;
        const p = (dims[i] as { size: number }).size;
        const o = dims.slice(0, i).reduce((n, d) => n * d.size, 1);
        const r = dims.slice(i + 1).reduce((n, d) => n * d.size, 1);
        if (o === 1) {
          step(sumRows(backend, cur, p, r, kind === "Mean" ? 1 / p : 1));
        } else {
          const t = call(transpose, { x: reshaped(cur, [o, p, r]) }, { perm: [0, 2, 1] });
          try {
            step(reduceLast(t, p));
          } finally {
            backend.disposeData(t.dataId);
          }
        }
        dims.splice(i, 1);
        const before = dims[i - 1];
        const after = dims[i];
        if (before !== undefined && after !== undefined && before.reduce === after.reduce) {
          before.size *= after.size;
          dims.splice(i, 1);
        }
      }
    } catch (e) {
      if (cur !== x) backend.disposeData(cur.dataId);
      throw e;
    }
    cur.shape = outShape;
    return cur;
  }) as unknown as tf.KernelFunc;
}

/**
 * `scale * sum_p x[p, :]` for x `[P, R]` (float32) as a pairwise (tree) sum of row blocks, each level one call of
 * the backend's C `Add` (XNNPACK, same-shape: its fastest case) on views:
 *
 *     t = x[0 : h] + x[h : 2h]   (h = floor(P / 2); an odd last row is added to row 0),   then t halves in place
 *
 * About 2 log2(P) calls and N element additions in all, where tfjs transposes `[P, R]` (slow for small R) and reduces.
 * Returns a new `[R]` tensor.
 */
export function sumRows(backend: WasmBackend, x: tf.TensorInfo, p: number, r: number, scale: number): tf.TensorInfo {
  const out = backend.makeOutput([r], "float32");
  if (p === 1) {
    const src = heapF32(backend, reshaped(x, [r]));
    heapF32(backend, out).set(src.map((v) => v * scale));
    return out;
  }
  const add = wasmFunction(backend, "Add", ["number", "array", "number", "number", "array", "number", "number", "number"]);
  const h0 = Math.floor(p / 2);
  const tmp = backend.makeOutput([h0 * r], "float32");
  try {
    withViews(backend, (view) => {
      const sum = (a: [tf.TensorInfo, number], b: [tf.TensorInfo, number], o: [tf.TensorInfo, number], rows: number) => {
        const n = rows * r;
        const shape = shapeBytes([n]);
        add(view(a[0], a[1] * r, n), shape, 1, view(b[0], b[1] * r, n), shape, 1, 0 /* float32 */, view(o[0], o[1] * r, n));
      };
      sum([x, 0], [x, h0], [tmp, 0], h0);
      if (p % 2 === 1) sum([tmp, 0], [x, p - 1], [tmp, 0], 1);
      for (let rows = h0; rows > 1; ) {
        const h = Math.floor(rows / 2);
        sum([tmp, 0], [tmp, h], [tmp, 0], h);
        if (rows % 2 === 1) sum([tmp, 0], [tmp, rows - 1], [tmp, 0], 1);
        rows = h;
      }
    });
    const dst = heapF32(backend, out);
    const src = heapF32(backend, tmp);
    for (let i = 0; i < r; i++) dst[i] = (src[i] as number) * scale;
  } finally {
    backend.disposeData(tmp.dataId);
  }
  return out;
}
