// The exact gradient of sum(dy * resizeNearestNeighbor(x)) by brute force, against whatever kernel the active backend
// has: dy summed through the copy matrix that the forward op gives for one-hot images. Shared by the WebGPU test
// (src/webgpu.test.ts, on SwiftShader in CI) and the GPU check (device/resize-grad-check.ts).
import * as tf from "@tensorflow/tfjs-core";

export type Mode = { alignCorners: boolean; halfPixelCenters: boolean };
export const modes: Mode[] = [
  { alignCorners: false, halfPixelCenters: false },
  { alignCorners: true, halfPixelCenters: false },
  { alignCorners: false, halfPixelCenters: true },
];
export const shapes: [[number, number, number, number], [number, number]][] = [
  [[2, 2, 2, 1], [4, 4]],
  [[2, 3, 5, 3], [7, 9]],
  [[3, 5, 7, 1], [3, 4]],
  [[2, 6, 6, 3], [4, 4]],
  [[2, 1, 1, 3], [3, 2]],
  [[1, 4, 1, 2], [6, 3]],
  [[4, 32, 32, 8], [64, 64]],
];

/** The largest |difference| between the active backend's gradient and the brute-force one. */
export async function worstError(xShape: [number, number, number, number], size: [number, number], m: Mode): Promise<number> {
  const [b, h, w, c] = xShape;
  const pixels = size[0] * size[1];
  const x = tf.randomUniform(xShape, -1, 1, "float32", 1) as tf.Tensor4D;
  const dy = tf.randomUniform([b, size[0], size[1], c], -1, 1, "float32", 2);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, size, m.alignCorners, m.halfPixelCenters), dy)))(x);
  const P = tf.tidy(() => tf.image.resizeNearestNeighbor(tf.reshape(tf.eye(h * w), [h * w, h, w, 1]) as tf.Tensor4D, size, m.alignCorners, m.halfPixelCenters));
  const [got, dyv, pv] = (await Promise.all([g.data(), dy.data(), P.data()])) as Float32Array[];
  tf.dispose([x, dy, g, P]);
  // For each output pixel q, the input pixel p with P[p, q] = 1.
  const src = new Int32Array(pixels).fill(-1);
  for (let p = 0; p < h * w; p++) for (let q = 0; q < pixels; q++) if ((pv as Float32Array)[p * pixels + q] === 1) src[q] = p;
  const want = new Float64Array(b * h * w * c);
  for (let i = 0; i < b; i++) {
    for (let q = 0; q < pixels; q++) {
      for (let k = 0; k < c; k++) {
        const j = (i * h * w + (src[q] as number)) * c + k;
        want[j] = (want[j] as number) + ((dyv as Float32Array)[(i * pixels + q) * c + k] as number);
      }
    }
  }
  let worst = 0;
  for (let j = 0; j < want.length; j++) {
    const d = Math.abs(((got as Float32Array)[j] as number) - (want[j] as number));
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

