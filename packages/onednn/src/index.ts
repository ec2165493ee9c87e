// @dale/onednn: the binding. Loads the addon that scripts/build-native.mjs built, or says why it cannot.
import { createRequire } from "node:module";

/**
 * The addon's functions. Each convolution reads and writes float32 tensors inside one buffer (`heap`, a Uint8Array
 * over an ArrayBuffer or a SharedArrayBuffer, e.g. tfjs' wasm memory) at byte offsets, in tfjs' layouts (NHWC data,
 * HWIO filters), and takes the problem as {@link convDims}. The addon checks that every tensor lies inside the buffer.
 */
export interface OneDnn {
  /** y = conv(x, filter). */
  conv2d(heap: Uint8Array, xOffset: number, filterOffset: number, yOffset: number, dims: Int32Array): void;
  /** dx from dy and the filter. */
  conv2dBackpropInput(heap: Uint8Array, dyOffset: number, filterOffset: number, dxOffset: number, dims: Int32Array): void;
  /** dfilter from x and dy. */
  conv2dBackpropFilter(heap: Uint8Array, xOffset: number, dyOffset: number, dfilterOffset: number, dims: Int32Array): void;
  /**
   * c[i] = op(a[i]) op(b[i]) for i < max(batchA, batchB), row-major, op a transpose where asked (read in place through
   * strides), either batch 1 to broadcast. dims: Int32Array [batchA, batchB, m, k, n, transposeA, transposeB], where
   * op(a[i]) is m x k and op(b[i]) is k x n.
   */
  matmul(heap: Uint8Array, aOffset: number, bOffset: number, cOffset: number, dims: Int32Array): void;
  /** oneDNN's version, e.g. "2.6.3". */
  version(): string;
  /** How many compiled primitives the addon keeps (one per problem shape and kind). */
  cachedPrimitives(): number;
  /** oneDNN's threads (OpenMP threads of the calling thread). */
  setThreads(n: number): void;
  threads(): number;
}

/** One 2-D convolution problem, NHWC / HWIO, as the addon takes it. Pads are explicit, in input pixels. */
export interface ConvProblem {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

/** The dims array of {@link OneDnn}'s convolutions, in the addon's order. */
export function convDims(p: ConvProblem): Int32Array {
  return new Int32Array([
    p.batch, p.inHeight, p.inWidth, p.inChannels, p.filterHeight, p.filterWidth, p.outChannels, p.outHeight, p.outWidth,
    p.strideHeight, p.strideWidth, p.dilationHeight, p.dilationWidth, p.padTop, p.padLeft, p.padBottom, p.padRight,
  ]);
}

export type LoadResult = { ok: true; onednn: OneDnn; version: string } | { ok: false; reason: string };

let loaded: LoadResult | null = null;

/**
 * Loads the addon once. Never throws: when the addon was not built (no oneDNN or compiler at install time, another
 * platform) or cannot load (libdnnl missing at run time), `{ ok: false, reason }` says why.
 *
 * @example
 * import { loadOneDnn } from "@dale/onednn";
 * const r = loadOneDnn();
 * console.log(r.ok ? `oneDNN ${r.version}` : r.reason);
 */
export function loadOneDnn(): LoadResult {
  if (loaded !== null) return loaded;
  const require = createRequire(import.meta.url);
  const path = "../build/dale_onednn.node";
  // OpenMP's idle threads sleep instead of spinning (unless the user chose): between two convolutions the wasm
  // backend's own threads need the cores. libgomp reads this when it loads, which is the require below. Measured on
  // the U-Net step (BENCHMARKS.md): spinning made both the forward pass and training slower.
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = "passive";
  try {
    const onednn = require(path) as OneDnn;
    loaded = { ok: true, onednn, version: onednn.version() };
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    loaded = {
      ok: false,
      reason: `the oneDNN addon did not load (${why}); build it with \`node scripts/build-native.mjs\` in @dale/onednn after installing oneDNN (Debian: libdnnl-dev) and g++`,
    };
  }
  return loaded;
}
