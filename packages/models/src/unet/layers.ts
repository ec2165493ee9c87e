import * as tf from "@tensorflow/tfjs-core";

/** SiLU (swish): x * sigmoid(x). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Number of groups of GroupNorm over c channels: the largest divisor of c that is at most 32 and leaves at least two
 * channels per group (32 for c >= 64, as in DDPM). One channel per group would be instance norm, which removes the
 * per-channel shift that the time embedding adds in each residual block, so the output would not depend on t.
 */
export function groupsFor(c: number): number {
  for (let g = Math.min(32, Math.floor(c / 2)); g > 1; g--) if (c % g === 0) return g;
  return 1;
}

/**
 * GroupNorm (Wu and He 2018) over NHWC: x reshaped to [B, H, W, G, C/G], normalised by its moments over
 * [H, W, C/G] (eps 1e-5), reshaped back and scaled per channel: y = gamma * (x - mean) / sqrt(var + eps) + beta.
 */
export function groupNorm(x: tf.Tensor4D, p: { gamma: tf.Tensor; beta: tf.Tensor }, eps = 1e-5): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const g = groupsFor(c);
    const grouped = tf.reshape(x, [b, h, w, g, c / g]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normed = tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), p.gamma), p.beta) as tf.Tensor4D;
  });
}

/**
 * Nearest-neighbour x2 upsampling ([B, H, W, C] -> [B, 2H, 2W, C]) by concatenation and reshapes of rank <= 4, whose
 * gradients tfjs has on every backend (tile's gradient stops at rank 4; resizeNearestNeighbor's is missing on wasm).
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const cols = tf.reshape(tf.concat([x, x], 3), [b, h, 2 * w * c]); // (w, k, c) -> column 2w + k
    return tf.reshape(tf.concat([cols, cols], 2), [b, 2 * h, 2 * w, c]) as tf.Tensor4D; // (h, k, ...) -> row 2h + k
  });
}
