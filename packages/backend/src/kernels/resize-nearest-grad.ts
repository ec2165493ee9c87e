import * as tf from "@tensorflow/tfjs-core";

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap };

const KERNEL = "ResizeNearestNeighborGrad";

/**
 * Backends whose own ResizeNearestNeighborGrad (tfjs 4.22) is wrong, and where Dale replaces it on import and when
 * `initBackend` starts WebGPU:
 * - cpu reads `dy` at the input's batch stride (`b * H * W * C` instead of `b * OH * OW * C`), so every image after
 *   the first gets another image's gradient, or NaN past the end of `dy`, with no error;
 * - cpu, wasm (its own C++ kernel) and webgpu ignore `halfPixelCenters`, so they scatter `dy` back through the
 *   mapping without the half-pixel offset, which differs from the one the forward op used.
 * (tfjs' webgl kernel ignores `halfPixelCenters` too; it runs only in a browser and Dale does not replace it.)
 */
export const RESIZE_NEAREST_GRAD_BACKENDS = ["cpu", "wasm", "webgpu"] as const;

/**
 * How Dale's kernel sums `dy` into the input pixels: in JavaScript over data read back from the backend (`"host"`,
 * the default on cpu and wasm, whose reads are synchronous copies of memory), or with the backend's own kernels
 * (`"kernels"`: Transpose, Cast, Multiply, Sum and UnsortedSegmentSum, the default elsewhere, i.e. on webgpu).
 */
export type ResizeNearestGradVia = "host" | "kernels";

/**
 * ResizeNearestNeighborGrad as the exact adjoint of the backend's own forward kernel. The forward op
 * (`tf.image.resizeNearestNeighbor`, NHWC, images `[B, H, W, C]` to `[B, OH, OW, C]`) copies
 *
 *     y[b, r, s, c] = x[b, src_H(r), src_W(s), c],
 *     src_H(r) = min(H - 1, round(f)) with alignCorners, else min(H - 1, floor(f)), then max(0, .) with halfPixelCenters,
 *     f = ratio (r + 0.5) with halfPixelCenters, else ratio r,
 *     ratio = (H - 1) / (OH - 1) with alignCorners and OH > 1, else H / OH
 *
 * (tfjs-backend-cpu's ResizeNearestNeighbor; the same for the width), so the gradient of `sum(dy * y)` is
 *
 *     dx[b, h, w, c] = sum of dy[b, r, s, c] over the (r, s) with src_H(r) = h and src_W(s) = w.
 *
 * The kernel does not re-derive `src`: tfjs computes it in float64 on cpu and in float32 in wasm's C++ and in WGSL,
 * which can round a tie differently. It asks the forward kernel of the same backend instead, resizing an index image
 * `[1, H, W, 2]` that holds `(h, w)` at pixel `(h, w)`: the output holds `(src_H(r), src_W(s))` at `(r, s)`. Then
 * `dy` is scattered there. Any batch, channel count, up- or down-sampling; the result is float32 of `images`' shape.
 *
 * @example
 * // x [2, 2, 2, 1] to 4x4, dy = 0, 1, ..., 31: each input pixel sums its 2x2 block of dy
 * // dx = [10, 18, 42, 50, 74, 82, 106, 114] (tfjs 4.22's cpu kernel: [10, 18, 42, 50, 26, 34, 58, 66])
 */
export function resizeNearestNeighborGradKernel(backendName: string, via: ResizeNearestGradVia): tf.KernelFunc {
  const kernel = (args: KernelArgs): Info => {
    const p = problem(args);
    if (p.dxSize === 0 || p.oh * p.ow === 0) return write(args.backend, new Float32Array(p.dxSize), p.images.shape, "float32");
    return via === "host" ? viaHost(backendName, args, p) : viaKernels(backendName, args, p);
  };
  return kernel as unknown as tf.KernelFunc;
}

interface Problem {
  images: Info;
  dy: Info;
  b: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  dxSize: number;
  /** The forward kernel's attributes, for the resize of the index image. */
  forward: tf.NamedAttrMap;
}

function problem({ inputs, attrs }: KernelArgs): Problem {
  const { images, dy } = inputs;
  if (images === undefined || dy === undefined) throw new Error(`${KERNEL} (@dale/backend): needs inputs images and dy.`);
  const [b, h, w, c] = images.shape;
  const [db, oh, ow, dc] = dy.shape;
  const ranks = images.shape.length === 4 && dy.shape.length === 4;
  if (!ranks || b === undefined || h === undefined || w === undefined || c === undefined || oh === undefined || ow === undefined || db !== b || dc !== c) {
    throw new Error(
      `${KERNEL} (@dale/backend): images must be [batch, height, width, channels] and dy [batch, newHeight, newWidth, ` +
        `channels] with the same batch and channels, got images [${images.shape}] and dy [${dy.shape}].`,
    );
  }
  const forward = { alignCorners: attrs.alignCorners === true, halfPixelCenters: attrs.halfPixelCenters === true, size: [oh, ow] };
  return { images, dy, b, h, w, c, oh, ow, dxSize: b * h * w * c, forward };
}

function write(backend: Backend, values: Float32Array | Int32Array, shape: readonly number[], dtype: tf.DataType): Info {
  return { dataId: backend.write(values, [...shape], dtype), shape: [...shape], dtype };
}

/** The index image `[1, H, W, 2]`: `(h, w)` at pixel `(h, w)`. */
function indexImage(backend: Backend, h: number, w: number): Info {
  const values = new Float32Array(h * w * 2);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      values[2 * (i * w + j)] = i;
      values[2 * (i * w + j) + 1] = j;
    }
  }
  return write(backend, values, [1, h, w, 2], "float32");
}

function forwardKernel(backendName: string): tf.KernelFunc {
  const kernel = tf.getKernel("ResizeNearestNeighbor", backendName);
  if (kernel === undefined) throw new Error(`${KERNEL} (@dale/backend): the ${backendName} backend has no ResizeNearestNeighbor kernel.`);
  return kernel.kernelFunc;
}

/** cpu and wasm: read the source map and `dy` back, scatter-add in JavaScript, write `dx`. */
function viaHost(backendName: string, { backend }: KernelArgs, p: Problem): Info {
  const { b, h, w, c, oh, ow } = p;
  const index = indexImage(backend, h, w);
  let src: ArrayLike<number>;
  try {
    const out = forwardKernel(backendName)({ inputs: { images: index }, backend, attrs: p.forward }) as Info; // [1, OH, OW, 2]
    try {
      src = backend.readSync(out.dataId) as ArrayLike<number>;
    } finally {
      backend.disposeData(out.dataId);
    }
  } finally {
    backend.disposeData(index.dataId);
  }
  const dy = backend.readSync(p.dy.dataId) as ArrayLike<number>;
  const dx = new Float32Array(p.dxSize);
  const pixels = oh * ow;
  for (let q = 0; q < pixels; q++) {
    const to0 = ((src[2 * q] as number) * w + (src[2 * q + 1] as number)) * c;
    for (let i = 0; i < b; i++) {
      const from = (i * pixels + q) * c;
      const to = i * h * w * c + to0;
      for (let k = 0; k < c; k++) dx[to + k] = (dx[to + k] as number) + (dy[from + k] as number);
    }
  }
  return write(backend, dx, p.images.shape, "float32");
}

/**
 * GPUs: the same scatter-add with the backend's kernels, nothing read back. The source map becomes flat segment ids
 * `h W + w` (Cast, Multiply by `[W, 1]`, Sum), `dy` is laid out as `[OH OW, B C]` (Transpose, Reshape), summed per id
 * into `[H W, B C]` (UnsortedSegmentSum) and laid back out as `[B, H, W, C]`.
 */
function viaKernels(backendName: string, { backend }: KernelArgs, p: Problem): Info {
  const { b, h, w, c, oh, ow } = p;
  const made: Info[] = [];
  const call = (name: string, inputs: Record<string, Info>, attrs: tf.NamedAttrMap = {}): Info => {
    const kernel = tf.getKernel(name, backendName);
    if (kernel === undefined) throw new Error(`${KERNEL} (@dale/backend): the ${backendName} backend has no ${name} kernel.`);
    const out = kernel.kernelFunc({ inputs, backend, attrs }) as Info;
    made.push(out);
    return out;
  };
  try {
    const index = indexImage(backend, h, w);
    made.push(index);
    const strides = write(backend, new Int32Array([w, 1]), [2], "int32");
    made.push(strides);
    const src = call("ResizeNearestNeighbor", { images: index }, p.forward); // [1, OH, OW, 2]
    const srcInt = call("Cast", { x: src }, { dtype: "int32" });
    const flat = call("Multiply", { a: srcInt, b: strides });
    const ids = call("Sum", { x: flat }, { axis: [3], keepDims: false }); // [1, OH, OW]
    const segmentIds = call("Reshape", { x: ids }, { shape: [oh * ow] });
    const dyT = call("Transpose", { x: p.dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, C]
    const rows = call("Reshape", { x: dyT }, { shape: [oh * ow, b * c] });
    const rows32 = rows.dtype === "float32" ? rows : call("Cast", { x: rows }, { dtype: "float32" });
    const sums = call("UnsortedSegmentSum", { x: rows32, segmentIds }, { numSegments: h * w }); // [H W, B C]
    const dxT = call("Reshape", { x: sums }, { shape: [h, w, b, c] });
    const dx = call("Transpose", { x: dxT }, { perm: [2, 0, 1, 3] });
    made.pop(); // dx is the result: not freed below
    return dx;
  } finally {
    for (const info of made) backend.disposeData(info.dataId);
  }
}

const installed = new Map<string, tf.KernelConfig>();

/**
 * Replaces a backend's ResizeNearestNeighborGrad with Dale's ({@link resizeNearestNeighborGradKernel}), so that
 * `tf.image.resizeNearestNeighbor` in any network trains correctly there. Does nothing, and returns false, while the
 * backend's package is not loaded (its import would register tfjs' kernel over Dale's): call it after importing
 * one yourself, as `initBackend` does for WebGPU. Idempotent unless `force` (which switches `via`). Dale registers it
 * on import for cpu and wasm and when `initBackend` starts WebGPU ({@link RESIZE_NEAREST_GRAD_BACKENDS}).
 *
 * @example
 * import "@tensorflow/tfjs-backend-webgpu";
 * registerResizeNearestNeighborGrad("webgpu"); // true
 */
export function registerResizeNearestNeighborGrad(
  backendName: string,
  options: { via?: ResizeNearestGradVia; force?: boolean } = {},
): boolean {
  const host = backendName === "cpu" || backendName === "wasm";
  const via = options.via ?? (host ? "host" : "kernels");
  if (via === "host" && !host) {
    throw new Error(`registerResizeNearestNeighborGrad: via "host" needs the cpu or wasm backend, not ${backendName}.`);
  }
  const previous = installed.get(backendName);
  if (previous !== undefined && !options.force) return true;
  const original = previous ?? tf.getKernel(KERNEL, backendName);
  if (original === undefined) return false;
  if (tf.getKernel(KERNEL, backendName) !== undefined) tf.unregisterKernel(KERNEL, backendName);
  tf.registerKernel({
    kernelName: KERNEL,
    backendName,
    kernelFunc: resizeNearestNeighborGradKernel(backendName, via),
    // Keep the original's setup (wasm binds its C function there when the backend starts), so that putting it back
    // with unregisterResizeNearestNeighborGrad works after the backend started.
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
    ...(original.disposeFunc ? { disposeFunc: original.disposeFunc } : {}),
  });
  installed.set(backendName, original);
  return true;
}

/** Registers Dale's ResizeNearestNeighborGrad on each of {@link RESIZE_NEAREST_GRAD_BACKENDS} that is loaded. */
export function registerResizeNearestNeighborGradKernels(): void {
  for (const backendName of RESIZE_NEAREST_GRAD_BACKENDS) registerResizeNearestNeighborGrad(backendName);
}

/** Puts back the backend's own ResizeNearestNeighborGrad that {@link registerResizeNearestNeighborGrad} replaced. */
export function unregisterResizeNearestNeighborGrad(backendName: string): void {
  const original = installed.get(backendName);
  if (original === undefined) return;
  if (tf.getKernel(KERNEL, backendName) !== undefined) tf.unregisterKernel(KERNEL, backendName);
  tf.registerKernel(original);
  installed.delete(backendName);
}

/** The backend's own ResizeNearestNeighborGrad that Dale replaced, if it did (for `replacedKernels`). */
export function replacedResizeNearestNeighborGrad(backendName: string): tf.KernelFunc | undefined {
  return installed.get(backendName)?.kernelFunc;
}
