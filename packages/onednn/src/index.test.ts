// The addon against a direct float64 loop over the convolution's definition (NHWC data, HWIO filters), and its
// argument checks. Skipped, with the reason, where the addon is not built, unless DALE_REQUIRE_ONEDNN=1 (CI).
import { describe, expect, it } from "vitest";
import { convDims, loadOneDnn, type ConvProblem } from "./index";

const loaded = loadOneDnn();
const required = process.env.DALE_REQUIRE_ONEDNN === "1";
if (!loaded.ok && !required) console.warn(`[onednn] skipped: ${loaded.reason}`);

function problem(n: number, h: number, w: number, ci: number, k: [number, number], co: number, s: [number, number], d: [number, number], pad: [number, number, number, number]): ConvProblem {
  const [pt, pl, pb, pr] = pad;
  const outHeight = Math.floor((h + pt + pb - ((k[0] - 1) * d[0] + 1)) / s[0]) + 1;
  const outWidth = Math.floor((w + pl + pr - ((k[1] - 1) * d[1] + 1)) / s[1]) + 1;
  return {
    batch: n, inHeight: h, inWidth: w, inChannels: ci, filterHeight: k[0], filterWidth: k[1], outChannels: co, outHeight, outWidth,
    strideHeight: s[0], strideWidth: s[1], dilationHeight: d[0], dilationWidth: d[1], padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
  };
}

/** y[b, i, j, o] = sum over kh, kw, c of x[b, i sh + kh dh - pt, j sw + kw dw - pl, c] f[kh, kw, c, o] (0 outside). */
function reference(p: ConvProblem, x: Float32Array, f: Float32Array, dy: Float32Array) {
  const y = new Float64Array(p.batch * p.outHeight * p.outWidth * p.outChannels);
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  for (let b = 0; b < p.batch; b++)
    for (let i = 0; i < p.outHeight; i++)
      for (let j = 0; j < p.outWidth; j++)
        for (let kh = 0; kh < p.filterHeight; kh++)
          for (let kw = 0; kw < p.filterWidth; kw++) {
            const r = i * p.strideHeight + kh * p.dilationHeight - p.padTop;
            const c = j * p.strideWidth + kw * p.dilationWidth - p.padLeft;
            if (r < 0 || r >= p.inHeight || c < 0 || c >= p.inWidth) continue;
            for (let ci = 0; ci < p.inChannels; ci++)
              for (let o = 0; o < p.outChannels; o++) {
                const xi = ((b * p.inHeight + r) * p.inWidth + c) * p.inChannels + ci;
                const fi = ((kh * p.filterWidth + kw) * p.inChannels + ci) * p.outChannels + o;
                const yi = ((b * p.outHeight + i) * p.outWidth + j) * p.outChannels + o;
                y[yi]! += x[xi]! * f[fi]!;
                dx[xi]! += dy[yi]! * f[fi]!;
                df[fi]! += x[xi]! * dy[yi]!;
              }
          }
  return { y, dx, df };
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

function maxErr(got: Float32Array, want: Float64Array): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  return e;
}

const problems: [string, ConvProblem][] = [
  ["3x3 same", problem(2, 7, 6, 3, [3, 3], 4, [1, 1], [1, 1], [1, 1, 1, 1])],
  ["3x3 stride 2, asymmetric pad", problem(2, 9, 8, 2, [3, 3], 5, [2, 2], [1, 1], [0, 0, 1, 1])],
  ["2x4 strides 3x2 valid", problem(1, 11, 8, 3, [2, 4], 3, [3, 2], [1, 1], [0, 0, 0, 0])],
  ["3x3 dilation 2", problem(2, 10, 9, 2, [3, 3], 3, [1, 1], [2, 2], [2, 2, 2, 2])],
  ["1x1", problem(3, 5, 5, 4, [1, 1], 6, [1, 1], [1, 1], [0, 0, 0, 0])],
];

describe.skipIf(!loaded.ok && !required)("the oneDNN addon", () => {
  const dnn = () => {
    if (!loaded.ok) throw new Error(`DALE_REQUIRE_ONEDNN=1 but ${loaded.reason}`);
    return loaded.onednn;
  };

  it("reports its oneDNN version and threads", () => {
    expect(dnn().version()).toMatch(/^\d+\.\d+\.\d+$/);
    dnn().setThreads(2);
    expect(dnn().threads()).toBe(2);
  });

  it.each(problems)("%s: forward and both gradients equal the direct sum, at offsets inside one buffer", (_, p) => {
    const nx = p.batch * p.inHeight * p.inWidth * p.inChannels;
    const nf = p.filterHeight * p.filterWidth * p.inChannels * p.outChannels;
    const ny = p.batch * p.outHeight * p.outWidth * p.outChannels;
    const x = random(nx, 1), f = random(nf, 2), dy = random(ny, 3);
    const want = reference(p, x, f, dy);
    // One buffer holding x, f, dy and three outputs, 16 floats apart, the way tensors sit in the wasm heap.
    const at = [16, 32 + nx, 48 + nx + nf, 64 + nx + nf + ny, 80 + nx + nf + 2 * ny, 96 + 2 * nx + nf + 2 * ny];
    const heap = new Float32Array(at[5]! + nf + 16);
    heap.set(x, at[0]);
    heap.set(f, at[1]);
    heap.set(dy, at[2]);
    const bytes = new Uint8Array(heap.buffer);
    const d = convDims(p);
    dnn().conv2d(bytes, 4 * at[0]!, 4 * at[1]!, 4 * at[3]!, d);
    dnn().conv2dBackpropInput(bytes, 4 * at[2]!, 4 * at[1]!, 4 * at[4]!, d);
    dnn().conv2dBackpropFilter(bytes, 4 * at[0]!, 4 * at[2]!, 4 * at[5]!, d);
    expect(maxErr(heap.subarray(at[3], at[3]! + ny), want.y)).toBeLessThan(1e-5);
    expect(maxErr(heap.subarray(at[4], at[4]! + nx), want.dx)).toBeLessThan(1e-5);
    expect(maxErr(heap.subarray(at[5], at[5]! + nf), want.df)).toBeLessThan(1e-5);
    // Nothing outside the outputs was written: the gaps between tensors are still zero.
    expect(heap.subarray(0, 16).every((v) => v === 0)).toBe(true);
    expect(heap.subarray(at[5]! + nf).every((v) => v === 0)).toBe(true);
  });

  it.each([
    ["plain", 3, 3, 5, 7, 4, false, false],
    ["a transposed", 2, 2, 6, 3, 5, true, false],
    ["b transposed", 4, 4, 3, 8, 2, false, true],
    ["both transposed, b broadcast", 3, 1, 4, 5, 6, true, true],
    ["a broadcast", 1, 3, 2, 9, 3, false, false],
  ] as const)("matmul, %s: equals the direct sum", (_, ba, bb, m, k, n, ta, tb) => {
    const batch = Math.max(ba, bb);
    const a = random(ba * m * k, 6), b = random(bb * k * n, 7);
    const want = new Float64Array(batch * m * n);
    for (let i = 0; i < batch; i++)
      for (let r = 0; r < m; r++)
        for (let c = 0; c < n; c++)
          for (let j = 0; j < k; j++) {
            const ai = (ba === 1 ? 0 : i) * m * k + (ta ? j * m + r : r * k + j);
            const bi = (bb === 1 ? 0 : i) * k * n + (tb ? c * k + j : j * n + c);
            want[(i * m + r) * n + c]! += a[ai]! * b[bi]!;
          }
    const heap = new Float32Array(a.length + b.length + want.length + 8);
    heap.set(a, 4);
    heap.set(b, 4 + a.length);
    const at = 8 + a.length + b.length;
    dnn().matmul(new Uint8Array(heap.buffer), 16, 4 * (4 + a.length), 4 * at, new Int32Array([ba, bb, m, k, n, ta ? 1 : 0, tb ? 1 : 0]));
    expect(maxErr(heap.subarray(at, at + want.length), want)).toBeLessThan(1e-5);
    expect(() => dnn().matmul(new Uint8Array(heap.buffer), 16, 0, 4 * at + 4, new Int32Array([ba, bb, m, k, n, 0, 0]))).toThrow(/matmul: a tensor would reach past the end of the buffer/);
  });

  it("works on a SharedArrayBuffer (tfjs' wasm memory when it runs threads)", () => {
    const p = problems[0]![1];
    const nx = p.batch * p.inHeight * p.inWidth * p.inChannels;
    const nf = p.filterHeight * p.filterWidth * p.inChannels * p.outChannels;
    const ny = p.batch * p.outHeight * p.outWidth * p.outChannels;
    const heap = new Float32Array(new SharedArrayBuffer(4 * (nx + nf + ny)));
    const x = random(nx, 4), f = random(nf, 5);
    heap.set(x, 0);
    heap.set(f, nx);
    dnn().conv2d(new Uint8Array(heap.buffer), 0, 4 * nx, 4 * (nx + nf), convDims(p));
    expect(maxErr(heap.subarray(nx + nf), reference(p, x, f, new Float32Array(ny)).y)).toBeLessThan(1e-5);
  });

  it("refuses arguments that would reach outside the buffer, or are malformed, by name", () => {
    const p = problems[0]![1];
    const d = convDims(p);
    const small = new Uint8Array(64);
    expect(() => dnn().conv2d(small, 0, 0, 0, d)).toThrow(/conv2d: a tensor would reach past the end of the buffer/);
    expect(() => dnn().conv2dBackpropFilter(new Uint8Array(1 << 16), 2, 0, 0, d)).toThrow(/conv2dBackpropFilter: offsets must be non-negative multiples of 4/);
    expect(() => dnn().conv2d(new Uint8Array(1 << 16), 0, 0, 0, new Int32Array(5))).toThrow(/conv2d: dims must be an Int32Array of 17 entries/);
    const zero = convDims({ ...p, strideHeight: 0 });
    expect(() => dnn().conv2dBackpropInput(new Uint8Array(1 << 16), 0, 0, 0, zero)).toThrow(/conv2dBackpropInput: sizes, strides and dilations must be positive/);
    expect(() => dnn().conv2d(new Float32Array(16) as unknown as Uint8Array, 0, 0, 0, d)).toThrow(/conv2d: the buffer must be a Uint8Array/);
    expect(() => dnn().matmul(new Uint8Array(1 << 16), 0, 0, 0, new Int32Array([2, 3, 1, 1, 1, 0, 0]))).toThrow(/matmul: sizes must be positive and the batches equal or 1/);
    expect(() => dnn().setThreads(0)).toThrow(/setThreads: expected a positive integer/);
  });
});
