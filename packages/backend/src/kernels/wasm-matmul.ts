import * as tf from "@tensorflow/tfjs-core";
import { asWasmBackend, reshaped, shapeBytes, sizeOf, wasmFunction, withViews } from "./wasm-heap";

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/** Below this many multiply-adds per batch item, the per-call cost of XNNPACK (a few microseconds) does not pay. */
export const MATMUL_MIN_ITEM_WORK = 4096;

/**
 * BatchMatMul on wasm through XNNPACK for every batch item:
 *
 *     out[i] = op(a[i]) op(b[i]),   op(x) = x or x^T;  a: [..., M, K] (or [..., K, M]), b: [..., K, N] (or [..., N, K])
 *
 * tfjs' wasm kernel runs XNNPACK's GEMM only for a single item without transposes, and a scalar loop otherwise
 * (0.5 to 1 GFLOP/s: U-Net attention's `[B, HW, C] x [B, C, HW]`, and every matMul gradient, which transposes). Here
 * transposed operands are first transposed (one rank-3 transpose, fast), then each item is one call of the backend's
 * own C `BatchMatMul` on views of the operands and of one preallocated output (no copies): its XNNPACK path.
 * With b shared by all items (batch 1), the items are stacked into one `[batch M, K] x [K, N]` product.
 * Batch broadcasting other than "equal, or 1" and small items ({@link MATMUL_MIN_ITEM_WORK}) go to `original`.
 */
export function batchMatMulKernel(original: tf.KernelFunc, backendName = "wasm", minItemWork = MATMUL_MIN_ITEM_WORK): tf.KernelFunc {
  return ((args: KernelArgs): Info => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const backend = asWasmBackend(args.backend);
    if (backend === null || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) {
      return original(args) as Info;
    }
    const ar = a.shape.length;
    const br = b.shape.length;
    const m = a.shape[transposeA ? ar - 1 : ar - 2] as number;
    const k = a.shape[transposeA ? ar - 2 : ar - 1] as number;
    const kb = b.shape[transposeB ? br - 1 : br - 2] as number;
    const n = b.shape[transposeB ? br - 2 : br - 1] as number;
    if (k !== kb) return original(args) as Info; // its error message
    const outBatch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = sizeOf(outBatch);
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const simple = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);
    if (!simple || batch * m * n * k === 0 || m * k * n < minItemWork || (batch === 1 && !transposeA && !transposeB)) {
      return original(args) as Info;
    }
    const transpose = tf.getKernel("Transpose", backendName)?.kernelFunc;
    if (transpose === undefined) return original(args) as Info;
    const made: Info[] = [];
    const rowMajor = (x: Info, items: number, rows: number, cols: number, transposed: boolean): Info => {
      if (!transposed) return reshaped(x, [items, rows, cols]);
      const t = transpose({ inputs: { x: reshaped(x, [items, cols, rows]) }, backend: args.backend, attrs: { perm: [0, 2, 1] } }) as Info;
      made.push(t);
      return t;
    };
    try {
      const a3 = rowMajor(a, batchA, m, k, transposeA); // [batchA, M, K]
      const b3 = rowMajor(b, batchB, k, n, transposeB); // [batchB, K, N]
      let out: Info;
      if (batchB === 1) {
        out = original({
          inputs: { a: reshaped(a3, [1, batchA * m, k]), b: b3 },
          backend: args.backend,
          attrs: { transposeA: false, transposeB: false },
        }) as Info;
      } else {
        out = backend.makeOutput([batch, m, n], "float32");
        const gemm = wasmFunction(backend, "BatchMatMul", ["number", "array", "number", "number", "array", "number", "number", "number", "number"]);
        const aShape = shapeBytes([1, m, k]);
        const bShape = shapeBytes([1, k, n]);
        const o = out;
        try {
          for (let i = 0; i < batch; i++) {
            // One item at a time, so that XNNPACK's packed copy of b[i] is freed (with its view) before the next.
            withViews(backend, (view) =>
              gemm(view(a3, batchA === 1 ? 0 : i * m * k, m * k), aShape, 3, view(b3, i * k * n, k * n), bShape, 3, false, false, view(o, i * m * n, m * n)),
            );
          }
        } catch (e) {
          backend.disposeData(o.dataId);
          throw e;
        }
      }
      out.shape = [...outBatch, m, n];
      return out;
    } finally {
      for (const t of made) backend.disposeData(t.dataId);
    }
  }) as unknown as tf.KernelFunc;
}
