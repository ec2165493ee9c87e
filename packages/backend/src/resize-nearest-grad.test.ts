// Dale's ResizeNearestNeighborGrad against the exact gradient. The gradient of sum(dy * resize(x)) with respect to x
// sums, for each input pixel, dy over the output pixels that the forward op copied from it. The references below
// find those pixels by brute force: by resizing one-hot images with the forward op of the backend under test, and by
// an explicit index loop over tfjs-backend-cpu's mapping (the two are also checked against each other).
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  initBackend,
  registerResizeNearestNeighborGrad,
  replacedKernels,
  RESIZE_NEAREST_GRAD_BACKENDS,
  unregisterResizeNearestNeighborGrad,
} from "./index";

type Shape4 = [number, number, number, number];
interface Mode {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

// tf.image.resizeNearestNeighbor refuses alignCorners together with halfPixelCenters.
const modes: Mode[] = [
  { alignCorners: false, halfPixelCenters: false },
  { alignCorners: true, halfPixelCenters: false },
  { alignCorners: false, halfPixelCenters: true },
];

// Batch 1, 2 and 3; channels 1 and 3; up- and down-sampling, integer and fractional ratios, 1-pixel sides.
const shapes: { x: Shape4; size: [number, number] }[] = [
  { x: [1, 3, 5, 1], size: [5, 3] },
  { x: [2, 3, 5, 3], size: [7, 9] },
  { x: [3, 5, 7, 1], size: [3, 4] },
  { x: [3, 4, 4, 3], size: [6, 10] },
  { x: [2, 6, 6, 3], size: [4, 4] },
  { x: [2, 2, 3, 1], size: [1, 1] },
  { x: [1, 3, 3, 3], size: [1, 5] },
  { x: [3, 5, 5, 1], size: [8, 8] },
  { x: [2, 1, 1, 3], size: [3, 2] },
  { x: [2, 4, 6, 1], size: [8, 12] },
  { x: [1, 4, 1, 2], size: [6, 3] },
];

const cases = shapes.flatMap((s) => modes.map((m) => ({ ...s, ...m })));
const label = (c: (typeof cases)[number]) =>
  `x [${c.x}] to ${c.size.join("x")} alignCorners=${c.alignCorners} halfPixelCenters=${c.halfPixelCenters}`;

/** The gradient that tfjs computes for sum(dy * resizeNearestNeighbor(x)), on the current backend. */
function gradient(x: tf.Tensor4D, dy: tf.Tensor, size: [number, number], mode: Mode): Float32Array {
  const g = tf.grad((a: tf.Tensor) =>
    tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, size, mode.alignCorners, mode.halfPixelCenters), dy)),
  )(x);
  const out = g.dataSync() as Float32Array;
  g.dispose();
  return out;
}

/**
 * The forward op's copy matrix on the current backend, by resizing the H W one-hot images `[H W, H, W, 1]`:
 * `P[p, q]` is 1 where output pixel q (row-major over OH x OW) came from input pixel p (row-major over H x W).
 */
function copyMatrix(h: number, w: number, size: [number, number], mode: Mode): Float32Array {
  return tf.tidy(() => {
    const eye = tf.reshape(tf.eye(h * w), [h * w, h, w, 1]) as tf.Tensor4D;
    return tf.image.resizeNearestNeighbor(eye, size, mode.alignCorners, mode.halfPixelCenters).dataSync() as Float32Array;
  });
}

/** dx[b, p, c] = sum_q P[p, q] dy[b, q, c]: the brute-force gradient from the one-hot resizes. */
function bruteForce([b, h, w, c]: Shape4, size: [number, number], mode: Mode, dy: Float32Array): Float64Array {
  const P = copyMatrix(h, w, size, mode);
  const pixels = size[0] * size[1];
  const dx = new Float64Array(b * h * w * c);
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < h * w; p++) {
      for (let q = 0; q < pixels; q++) {
        const m = P[p * pixels + q] as number;
        if (m === 0) continue;
        for (let k = 0; k < c; k++) {
          const j = (i * h * w + p) * c + k;
          dx[j] = (dx[j] as number) + m * (dy[(i * pixels + q) * c + k] as number);
        }
      }
    }
  }
  return dx;
}

/** tfjs-backend-cpu's ResizeNearestNeighbor, one axis: the input index that output index i copies. */
function source(i: number, inSize: number, outSize: number, mode: Mode): number {
  const corners = mode.alignCorners && outSize > 1;
  const ratio = (corners ? inSize - 1 : inSize) / (corners ? outSize - 1 : outSize);
  const f = mode.halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
  const s = Math.min(inSize - 1, mode.alignCorners ? Math.round(f) : Math.floor(f));
  return mode.halfPixelCenters ? Math.max(0, s) : s;
}

/** The same gradient by an explicit loop over output pixels. */
function indexLoop([b, h, w, c]: Shape4, [oh, ow]: [number, number], mode: Mode, dy: Float32Array): Float64Array {
  const dx = new Float64Array(b * h * w * c);
  for (let i = 0; i < b; i++) {
    for (let r = 0; r < oh; r++) {
      for (let s = 0; s < ow; s++) {
        const to = ((i * h + source(r, h, oh, mode)) * w + source(s, w, ow, mode)) * c;
        const from = ((i * oh + r) * ow + s) * c;
        for (let k = 0; k < c; k++) dx[to + k] = (dx[to + k] as number) + (dy[from + k] as number);
      }
    }
  }
  return dx;
}

function worst(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs((got[i] as number) - (want[i] as number));
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

/** Runs one case on the current backend: [Dale's gradient, the one-hot brute force, the index loop]. */
function run(c: (typeof cases)[number], seed: number): [Float32Array, Float64Array, Float64Array] {
  const x = tf.randomUniform(c.x, -1, 1, "float32", seed) as tf.Tensor4D;
  const dy = tf.randomUniform([c.x[0], c.size[0], c.size[1], c.x[3]], -1, 1, "float32", seed + 1);
  const dyValues = dy.dataSync() as Float32Array;
  const got = gradient(x, dy, c.size, c);
  tf.dispose([x, dy]);
  return [got, bruteForce(c.x, c.size, c, dyValues), indexLoop(c.x, c.size, c, dyValues)];
}

/** The issue's example: x [2, 2, 2, 1] resized to 4x4, dy = 0, 1, ..., 31. */
function issueExample(mode: Mode = { alignCorners: false, halfPixelCenters: false }): number[] {
  const x = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
  const dy = tf.reshape(tf.range(0, 32), [2, 4, 4, 1]);
  const g = Array.from(gradient(x, dy, [4, 4], mode));
  tf.dispose([x, dy]);
  return g;
}
const ISSUE_DX = [10, 18, 42, 50, 74, 82, 106, 114];

describe.each(["cpu", "wasm"])("ResizeNearestNeighborGrad on %s", (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    // Fail here rather than hang: tfjs' own cpu kernel loops forever on alignCorners with a 1-pixel side (below).
    if (!("ResizeNearestNeighborGrad" in replacedKernels(backend))) {
      throw new Error(`Dale's ResizeNearestNeighborGrad is not registered on ${backend} after importing @dale/backend.`);
    }
  });

  it("sums each 2x2 block of dy in every image of the batch (the issue's example: 74, 82, 106, 114)", () => {
    for (const mode of modes) expect(issueExample(mode)).toEqual(ISSUE_DX);
  });

  it.each(cases.map((c, i) => [label(c), c, i] as const))("%s", (_, c, i) => {
    const [got, brute, loop] = run(c, 100 + 10 * i);
    expect(worst(brute, loop)).toBe(0); // the forward op copies exactly as tfjs-backend-cpu's loop says
    expect(worst(got, brute)).toBeLessThan(1e-5);
  });

  it("leaks no tensors and no backend memory", () => {
    const c = cases[4] as (typeof cases)[number];
    run(c, 1);
    const before = tf.memory();
    run(c, 2);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
  });
});

// The path Dale registers on webgpu (the backend's own kernels, nothing read back), run here on cpu.
describe('ResizeNearestNeighborGrad via "kernels" (the webgpu path), on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    registerResizeNearestNeighborGrad("cpu", { via: "kernels", force: true });
  });
  afterAll(() => {
    registerResizeNearestNeighborGrad("cpu", { via: "host", force: true });
  });

  it("gives the issue's example", () => {
    for (const mode of modes) expect(issueExample(mode)).toEqual(ISSUE_DX);
  });

  it.each(cases.map((c, i) => [label(c), c, i] as const))("%s", (_, c, i) => {
    const [got, brute] = run(c, 100 + 10 * i);
    expect(worst(got, brute)).toBeLessThan(1e-5);
  });

  it("leaks no tensors and no backend memory", () => {
    const c = cases[4] as (typeof cases)[number];
    run(c, 1);
    const before = tf.memory();
    run(c, 2);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});

// Why the kernel exists; when a tfjs upgrade fixes its own kernels, these fail and Dale's can go.
describe("tfjs 4.22's own ResizeNearestNeighborGrad", () => {
  const halfPixel = cases.find((c) => c.halfPixelCenters && c.x[0] === 1 && c.size[0] === 5) as (typeof cases)[number];

  it("on cpu reads dy at the input's batch stride (26, 34, 58, 66 for the second image) and ignores halfPixelCenters", async () => {
    await tf.setBackend("cpu");
    unregisterResizeNearestNeighborGrad("cpu");
    try {
      expect(issueExample()).toEqual([10, 18, 42, 50, 26, 34, 58, 66]);
      const [got, brute] = run(halfPixel, 7);
      expect(worst(got, brute)).toBeGreaterThan(0.01);
    } finally {
      registerResizeNearestNeighborGrad("cpu");
    }
    expect(issueExample()).toEqual(ISSUE_DX);
  });

  // With alignCorners and a 1-pixel side the scale is 0 and the search window 1 / 0: cpu's loop never ends (not run
  // here), and wasm's window, cast from infinity, is empty.
  it("on wasm ignores halfPixelCenters, and returns 0 for alignCorners with a 1-pixel side", async () => {
    await tf.setBackend("wasm");
    unregisterResizeNearestNeighborGrad("wasm");
    try {
      expect(issueExample()).toEqual(ISSUE_DX);
      const [got, brute] = run(halfPixel, 7);
      expect(worst(got, brute)).toBeGreaterThan(0.01);
      const x = tf.ones([1, 1, 1, 1]) as tf.Tensor4D;
      const dy = tf.ones([1, 3, 2, 1]);
      expect(Array.from(gradient(x, dy, [3, 2], { alignCorners: true, halfPixelCenters: false }))).toEqual([0]); // not 6
      tf.dispose([x, dy]);
    } finally {
      registerResizeNearestNeighborGrad("wasm");
    }
    const [got, brute] = run(halfPixel, 7);
    expect(worst(got, brute)).toBeLessThan(1e-5);
  });
});

describe("registration", () => {
  it("serves plain tfjs code after initBackend()", async () => {
    const { backend } = await initBackend({ prefer: "wasm" });
    expect(RESIZE_NEAREST_GRAD_BACKENDS).toContain(backend);
    expect(issueExample()).toEqual(ISSUE_DX);
  });

  it("waits for a backend that is not loaded, and refuses the host path on a GPU backend", () => {
    expect(registerResizeNearestNeighborGrad("no-such-backend")).toBe(false);
    expect(() => registerResizeNearestNeighborGrad("webgl", { via: "host", force: true })).toThrow(/via "host" needs the cpu or wasm backend/);
  });
});
