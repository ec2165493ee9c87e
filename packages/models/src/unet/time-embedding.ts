import * as tf from "@tensorflow/tfjs-core";
import { silu } from "./layers";
import { applyDense, type Lin, type Params } from "./params";

/**
 * The DDPM sinusoidal embedding of s = t * scale: [sin(s f_0), ..., sin(s f_{d/2-1}), cos(s f_0), ...] with
 * f_i = exp(-log(10000) i / (d/2 - 1)). `t` is `[batch]`; the result `[batch, dim]`.
 */
export function timestepEmbedding(t: tf.Tensor1D, dim: number, scale = 1000): tf.Tensor2D {
  return tf.tidy(() => {
    const half = dim / 2;
    const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / Math.max(half - 1, 1)));
    const args = tf.mul(tf.reshape(tf.mul(t, scale), [-1, 1]), tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  });
}


/** Weights of the time embedding's MLP. */
export interface TimeEmbedding { dense0: Lin; dense1: Lin }

/**
 * Makes the time embedding's weights, `temb.dense0` (`ch -> 4 ch`) then `temb.dense1` (`4 ch -> 4 ch`).
 */
export function createTimeEmbedding(params: Params, ch: number): TimeEmbedding {
  return { dense0: params.dense("temb.dense0", ch, 4 * ch), dense1: params.dense("temb.dense1", 4 * ch, 4 * ch) };
}

/**
 * DDPM's time embedding, with the SiLU that each residual block applies before its projection already taken:
 *
 *     temb = silu(dense1(silu(dense0(sinusoidal(t * scale, ch)))))
 *
 * `t` is `[batch]`; the result `[batch, 4 ch]`.
 */
export function timeEmbedding(t: tf.Tensor1D, p: TimeEmbedding, ch: number, scale: number): tf.Tensor2D {
  return silu(applyDense(silu(applyDense(timestepEmbedding(t, ch, scale), p.dense0)), p.dense1));
}
