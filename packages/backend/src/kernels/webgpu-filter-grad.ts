import * as tf from "@tensorflow/tfjs-core";
import { filterGradProblem } from "./filter-grad-problem";

/** The slice of tfjs-backend-webgpu's backend that a custom program needs (kept structural: it is an optional peer). */
interface WebGPUBackendLike extends tf.KernelBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: "int32" | "float32"; data: number[] }[],
  ): tf.TensorInfo;
}

const TILE = 64; // output tile per workgroup: 64 x 64, 16 x 16 threads with 4 x 4 outputs each
const TK = 16; // depth of one shared-memory step

/**
 * dW = P^T dy as an implicit-GEMM with split K, in WGSL: P (the im2col patches of x) is never materialised; each
 * workgroup reads its 64 rows of P straight from x into workgroup memory, multiplies by 64 columns of dy, for one
 * slice of the long inner dimension K = B Ho Wo. The slices' partial sums are added by the backend's Sum kernel.
 *
 *     rows m = (kh, kw, ci) of dW, columns n = co, inner k = (b, i, j)
 *     P[k, m] = x[b, i sh + kh - top, j sw + kw - left, ci] (0 outside x)
 */
class FilterGradProgram {
  variableNames = ["x", "dy"];
  uniforms =
    "M : i32, N : i32, K : i32, kChunk : i32, ci : i32, kw : i32, ho : i32, wo : i32, h : i32, w : i32, sh : i32, sw : i32, top : i32, left : i32,";
  workgroupSize: [number, number, number] = [256, 1, 1];
  outputShape: number[];
  dispatchLayout = { x: [0], y: [1], z: [2] };
  dispatch: [number, number, number];
  shaderKey = "daleFilterGradSplitK";

  constructor(splits: number, m: number, n: number) {
    this.outputShape = [splits, m, n];
    this.dispatch = [Math.ceil(m / TILE), Math.ceil(n / TILE), splits];
  }

  getUserCode(): string {
    return `
      var<workgroup> As : array<f32, ${TK * TILE}>;
      var<workgroup> Bs : array<f32, ${TK * TILE}>;
      fn main() {
        let tid = i32(localIndex);
        let tx = tid % 16;
        let ty = tid / 16;
        let m0 = i32(workgroupId.x) * ${TILE};
        let n0 = i32(workgroupId.y) * ${TILE};
        let kStart = i32(workgroupId.z) * uniforms.kChunk;
        let kEnd = min(kStart + uniforms.kChunk, uniforms.K);
        var acc : array<f32, 16>;
        for (var i = 0; i < 16; i++) { acc[i] = 0.0; }
        // The trip count depends on uniforms only, so the barriers below are in uniform control flow.
        for (var step = 0; step < uniforms.kChunk; step = step + ${TK}) {
          let k0 = kStart + step;
          for (var r = 0; r < ${(TK * TILE) / 256}; r++) {
            let e = tid + r * 256;
            let kk = e / ${TILE};
            let mm = e % ${TILE};
            let k = k0 + kk;
            let m = m0 + mm;
            var a = 0.0;
            if (m < uniforms.M && k < kEnd) {
              let c = m % uniforms.ci;
              let t = m / uniforms.ci;
              let kwi = t % uniforms.kw;
              let khi = t / uniforms.kw;
              let j = k % uniforms.wo;
              let t2 = k / uniforms.wo;
              let i = t2 % uniforms.ho;
              let b = t2 / uniforms.ho;
              let xr = i * uniforms.sh + khi - uniforms.top;
              let xc = j * uniforms.sw + kwi - uniforms.left;
              if (xr >= 0 && xr < uniforms.h && xc >= 0 && xc < uniforms.w) {
                a = x[((b * uniforms.h + xr) * uniforms.w + xc) * uniforms.ci + c];
              }
            }
            As[kk * ${TILE} + mm] = a;
            let n = n0 + mm;
            var bv = 0.0;
            if (n < uniforms.N && k < kEnd) {
              bv = dy[k * uniforms.N + n];
            }
            Bs[kk * ${TILE} + mm] = bv;
          }
          workgroupBarrier();
          for (var kk = 0; kk < ${TK}; kk++) {
            let ao = kk * ${TILE} + ty * 4;
            let bo = kk * ${TILE} + tx * 4;
            let a0 = As[ao]; let a1 = As[ao + 1]; let a2 = As[ao + 2]; let a3 = As[ao + 3];
            let b0 = Bs[bo]; let b1 = Bs[bo + 1]; let b2 = Bs[bo + 2]; let b3 = Bs[bo + 3];
            acc[0] += a0 * b0; acc[1] += a0 * b1; acc[2] += a0 * b2; acc[3] += a0 * b3;
            acc[4] += a1 * b0; acc[5] += a1 * b1; acc[6] += a1 * b2; acc[7] += a1 * b3;
            acc[8] += a2 * b0; acc[9] += a2 * b1; acc[10] += a2 * b2; acc[11] += a2 * b3;
            acc[12] += a3 * b0; acc[13] += a3 * b1; acc[14] += a3 * b2; acc[15] += a3 * b3;
          }
          workgroupBarrier();
        }
        let base = i32(workgroupId.z) * uniforms.M * uniforms.N;
        for (var i = 0; i < 4; i++) {
          let m = m0 + ty * 4 + i;
          for (var j = 0; j < 4; j++) {
            let n = n0 + tx * 4 + j;
            if (m < uniforms.M && n < uniforms.N) {
              result[base + m * uniforms.N + n] = acc[i * 4 + j];
            }
          }
        }
      }
    `;
  }
}

/** Conv2DBackpropFilter for WebGPU (NHWC, dilation 1) with {@link FilterGradProgram}. */
export function conv2DBackpropFilterWebGPU({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, dy, filterShape, info } = filterGradProblem(inputs, attrs);
  const [kh, kw, ci, co] = filterShape;
  const m = kh * kw * ci;
  const n = co;
  const k = info.batchSize * info.outHeight * info.outWidth;
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  const splits = Math.max(1, Math.min(Math.ceil(1024 / tiles), Math.ceil(k / 256)));
  const kChunk = Math.ceil(k / splits / TK) * TK;
  const used = Math.ceil(k / kChunk);
  const gpu = backend as WebGPUBackendLike;
  const uniforms = [m, n, k, kChunk, ci, kw, info.outHeight, info.outWidth, info.inHeight, info.inWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
  const partial = gpu.runWebGPUProgram(
    new FilterGradProgram(used, m, n),
    [x, dy],
    "float32",
    uniforms.map((v) => ({ type: "int32" as const, data: [v] })),
  );
  const sum = tf.getKernel("Sum", "webgpu");
  const reshape = tf.getKernel("Reshape", "webgpu");
  if (!sum || !reshape) throw new Error("@dale/backend: the webgpu backend has no Sum or Reshape kernel.");
  const summed = sum.kernelFunc({ inputs: { x: partial }, backend, attrs: { axis: [0], keepDims: false } }) as tf.TensorInfo;
  backend.disposeData(partial.dataId);
  const out = reshape.kernelFunc({ inputs: { x: summed }, backend, attrs: { shape: filterShape } }) as tf.TensorInfo;
  backend.disposeData(summed.dataId);
  return out;
}
