import * as tf from "@tensorflow/tfjs-core";
import { filterGradProblem } from "./filter-grad-problem";
import { registerResizeNearestNeighborGradKernels } from "./resize-nearest-grad";
import { conv2DBackpropFilterWebGPU } from "./webgpu-filter-grad";

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;
type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;
type KernelCall = (name: string, inputs: Record<string, Info> | Info[], attrs?: Record<string, unknown>) => Info;

/**
 * Runs other kernels of the same backend from inside a kernel, and frees every intermediate it made.
 * tfjs kernels compose the same way (a kernel calls `transpose({ inputs, backend, attrs })`); looking the kernels up
 * in the registry lets one composition serve every backend that has Conv2D, Transpose and Reverse.
 */
function withKernels<T>(backend: Backend, backendName: string, body: (call: KernelCall, keep: (i: Info) => Info) => T): T {
  const made: Info[] = [];
  const kept = new Set<Info>();
  const call: KernelCall = (name, inputs, attrs = {}) => {
    const kernel = tf.getKernel(name, backendName);
    if (kernel === undefined) throw new Error(`@dale/backend: the ${backendName} backend has no ${name} kernel.`);
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
    made.push(out);
    return out;
  };
  try {
    return body(call, (i) => (kept.add(i), i));
  } finally {
    for (const info of made) if (!kept.has(info)) backend.disposeData(info.dataId);
  }
}

/**
 * Conv2DBackpropFilter as one forward Conv2D with the batch and channel axes swapped (NHWC, dilation 1):
 *
 *     dW[kh, kw, ci, co] = sum_{b, i, j} x[b, i s + kh - top, j s + kw - left, ci] dy[b, i, j, co]
 *
 * is a convolution of x^T = transpose(x, [3, 1, 2, 0]) (`[Ci, H, W, B]`, the input channels as the batch) with
 * dy^T = transpose(dy, [1, 2, 0, 3]) (`[Ho, Wo, B, Co]`, the output gradient as the filter), stride 1 and dilation s,
 * whose output `[Ci, Kh, Kw, Co]` is transposed back. The padding is explicit so that the output is exactly Kh x Kw;
 * rows and columns of x that the forward convolution never read are sliced off first.
 */
export function conv2DBackpropFilterViaConv(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }): Info => {
    const { x, dy, filterShape, info } = filterGradProblem(inputs, attrs);
    const [kh, kw, ci, co] = filterShape;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo, inHeight: h, inWidth: w } = info;
    const { top, left } = info.padInfo;
    // The conv below reads rows -top .. (kh - 1) + (ho - 1) sh - top of x; pad or crop the far side to match.
    let bottom = kh - 1 + (ho - 1) * sh - top - (h - 1);
    let right = kw - 1 + (wo - 1) * sw - left - (w - 1);
    return withKernels(backend, backendName, (call, keep) => {
      let xt = call("Transpose", { x }, { perm: [3, 1, 2, 0] }); // [ci, h, w, b]
      if (bottom < 0 || right < 0) {
        xt = call("Slice", { x: xt }, { begin: [0, 0, 0, 0], size: [ci, h + Math.min(0, bottom), w + Math.min(0, right), x.shape[0]] });
        bottom = Math.max(0, bottom);
        right = Math.max(0, right);
      }
      const dyt = call("Transpose", { x: dy }, { perm: [1, 2, 0, 3] }); // [ho, wo, b, co]
      const dwt = call("Conv2D", { x: xt, filter: dyt }, stride1Conv([top, bottom, left, right], [sh, sw])); // [ci, kh, kw, co]
      if (dwt.shape[1] !== kh || dwt.shape[2] !== kw || dwt.shape[3] !== co) {
        throw new Error(`@dale/backend Conv2DBackpropFilter: internal shape mismatch [${dwt.shape}] for filter [${filterShape}].`);
      }
      return keep(call("Transpose", { x: dwt }, { perm: [1, 2, 0, 3] }));
    });
  };
}

/**
 * Conv2DBackpropFilter as one matrix product over im2col patches (NHWC, dilation 1):
 *
 *     dW[(kh, kw, ci), co] = sum_{(b, i, j)} P[(b, i, j), (kh, kw, ci)] dy[(b, i, j), co],
 *     P[(b, i, j), (kh, kw, ci)] = xpad[b, i s + kh, j s + kw, ci]
 *
 * P is built from Kh Kw strided slices of the padded input, concatenated on the channel axis, so the product is one
 * BatchMatMul with a long inner dimension (B Ho Wo): the shape split-K matrix kernels are made for.
 */
export function conv2DBackpropFilterViaIm2col(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }): Info => {
    const { x, dy, filterShape, info } = filterGradProblem(inputs, attrs);
    const [kh, kw, ci, co] = filterShape;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo, inHeight: h, inWidth: w, batchSize: b } = info;
    const { top, left } = info.padInfo;
    const bottom = Math.max(0, kh - 1 + (ho - 1) * sh - top - (h - 1));
    const right = Math.max(0, kw - 1 + (wo - 1) * sw - left - (w - 1));
    return withKernels(backend, backendName, (call, keep) => {
      const xp =
        top || bottom || left || right
          ? call("PadV2", { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 })
          : x;
      const patches: Info[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          patches.push(
            call(
              "StridedSlice",
              { x: xp },
              {
                begin: [0, i, j, 0],
                end: [b, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, ci],
                strides: [1, sh, sw, 1],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            ),
          );
        }
      }
      const p = patches.length === 1 ? (patches[0] as Info) : call("Concat", patches, { axis: 3 });
      const p3 = call("Reshape", { x: p }, { shape: [1, b * ho * wo, kh * kw * ci] });
      const dy3 = call("Reshape", { x: dy }, { shape: [1, b * ho * wo, co] });
      const dw = call("BatchMatMul", { a: p3, b: dy3 }, { transposeA: true, transposeB: false });
      return keep(call("Reshape", { x: dw }, { shape: [kh, kw, ci, co] }));
    });
  };
}

/**
 * Conv2DBackpropInput for stride 1 as one forward Conv2D with the flipped, transposed filter:
 *
 *     dx[b, y, x, ci] = sum_{kh, kw, co} dy[b, y + top - kh, x + left - kw, co] W[kh, kw, ci, co]
 *                     = conv2d(dy, W'), W'[kh, kw, co, ci] = W[Kh - 1 - kh, Kw - 1 - kw, ci, co],
 *
 * with padding Kh - 1 - top before and whatever makes the output H x W after. Strided convolutions fall back to the
 * backend's own kernel (`fallback`).
 */
export function conv2DBackpropInputViaConv(backendName: string, fallback: tf.KernelFunc | undefined) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }): Info => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: Info; filter: Info };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: Pad;
      dataFormat: "NHWC" | "NCHW";
      dimRoundingMode?: "floor" | "round" | "ceil";
      inputShape: [number, number, number, number];
    };
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      dataFormat === "NCHW" ? "channelsFirst" : "channelsLast",
    );
    const [kh, kw] = filter.shape as [number, number, number, number];
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = info.inHeight - info.outHeight - top + kh - 1;
    const right = info.inWidth - info.outWidth - left + kw - 1;
    const direct = info.strideHeight === 1 && info.strideWidth === 1 && dataFormat !== "NCHW";
    if (!direct || top < 0 || left < 0 || bottom < 0 || right < 0) {
      if (fallback === undefined) throw new Error(`@dale/backend: no Conv2DBackpropInput kernel for this case on ${backendName}.`);
      return fallback(args) as Info;
    }
    return withKernels(backend, backendName, (call, keep) => {
      const flipped = call("Reverse", { x: filter }, { dims: [0, 1] });
      const wt = call("Transpose", { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, co, ci]
      return keep(call("Conv2D", { x: dy, filter: wt }, stride1Conv([top, bottom, left, right], [1, 1])));
    });
  };
}

/** Attributes of a stride-1 NHWC Conv2D with explicit padding [top, bottom, left, right] and the given dilations. */
function stride1Conv(pads: [number, number, number, number], dilations: [number, number]): Record<string, unknown> {
  const [top, bottom, left, right] = pads;
  return {
    strides: [1, 1],
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: "NHWC",
    dilations,
    dimRoundingMode: undefined,
  };
}

const installed = new Map<string, { input?: tf.KernelFunc; filter?: tf.KernelFunc; inputConfig?: tf.KernelConfig }>();

/** The backend's own convolution-gradient kernels that {@link registerConvGradKernels} replaced (for benchmarks). */
export function replacedConvGradKernels(backendName: string): { input?: tf.KernelFunc; filter?: tf.KernelFunc } {
  return installed.get(backendName) ?? {};
}

/**
 * Registers Dale's convolution-gradient kernels for a backend: Conv2DBackpropFilter (absent from tfjs' wasm backend,
 * slow on WebGPU) and Conv2DBackpropInput (slow on wasm), both as forward convolutions. Any network built from
 * `tf.conv2d` then trains through them. Idempotent unless `force` (which switches the filter strategy).
 * The filter gradient is a forward convolution with batch and channels swapped (`"conv"`, the default on wasm), one
 * matrix product over im2col patches (`"im2col"`), or, on WebGPU, Dale's split-K implicit-GEMM WGSL kernel
 * (`"wgsl"`, the default there).
 */
export function registerConvGradKernels(
  backendName: string,
  options: { filter?: "conv" | "im2col" | "wgsl"; force?: boolean } = {},
): void {
  registerResizeNearestNeighborGradKernels(); // not a convolution: tfjs' own is wrong (resize-nearest-grad.ts)
  const previous = installed.get(backendName);
  if (previous && !options.force) return;
  const original = previous ? previous.input : tf.getKernel("Conv2DBackpropInput", backendName)?.kernelFunc;
  const originalFilter = previous ? previous.filter : tf.getKernel("Conv2DBackpropFilter", backendName)?.kernelFunc;
  // Keep the original's setup: wasm binds its C function there when the backend starts, and the strided fallback
  // calls it. Without it, registering before the backend starts leaves the fallback unbound.
  const originalConfig = previous ? previous.inputConfig : tf.getKernel("Conv2DBackpropInput", backendName);

  for (const name of ["Conv2DBackpropFilter", "Conv2DBackpropInput"]) {
    if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
  }
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName,
    kernelFunc: filterKernel(backendName, options.filter ?? (backendName === "webgpu" ? "wgsl" : "conv")),
  });
  tf.registerKernel({
    kernelName: "Conv2DBackpropInput",
    backendName,
    kernelFunc: conv2DBackpropInputViaConv(backendName, original) as unknown as tf.KernelFunc,
    ...(originalConfig?.setupFunc ? { setupFunc: originalConfig.setupFunc } : {}),
    ...(originalConfig?.disposeFunc ? { disposeFunc: originalConfig.disposeFunc } : {}),
  });
  installed.set(backendName, { input: original, filter: originalFilter, inputConfig: originalConfig });
}

function filterKernel(backendName: string, strategy: "conv" | "im2col" | "wgsl"): tf.KernelFunc {
  switch (strategy) {
    case "conv":
      return conv2DBackpropFilterViaConv(backendName) as unknown as tf.KernelFunc;
    case "im2col":
      return conv2DBackpropFilterViaIm2col(backendName) as unknown as tf.KernelFunc;
    case "wgsl":
      if (backendName !== "webgpu") throw new Error(`registerConvGradKernels: filter "wgsl" needs the webgpu backend, not ${backendName}.`);
      return conv2DBackpropFilterWebGPU as unknown as tf.KernelFunc;
  }
}

/**
 * Puts back the backend's own convolution-gradient kernels that {@link registerConvGradKernels} replaced (for
 * before/after benchmarks). A kernel the backend never had (wasm's Conv2DBackpropFilter) is left unregistered.
 */
export function unregisterConvGradKernels(backendName: string): void {
  const previous = installed.get(backendName);
  if (previous === undefined) return;
  for (const [name, fn] of [
    ["Conv2DBackpropInput", previous.input],
    ["Conv2DBackpropFilter", previous.filter],
  ] as const) {
    if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
    if (name === "Conv2DBackpropInput" && previous.inputConfig) tf.registerKernel(previous.inputConfig);
    else if (fn !== undefined) tf.registerKernel({ kernelName: name, backendName, kernelFunc: fn });
  }
  installed.delete(backendName);
}
