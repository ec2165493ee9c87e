import * as tf from "@tensorflow/tfjs-core";
import { groupNorm } from "./layers";
import { applyDense, type Lin, type Norm, type Params } from "./params";

/** Weights of one self-attention block. */
export interface AttentionBlock { norm: Norm; q: Lin; k: Lin; v: Lin; proj: Lin }

/**
 * Makes an attention block's weights over `c` channels in this order: `${name}.norm`, `.q`, `.k`, `.v` (1x1, as dense
 * layers) and `.proj` (zero-initialised).
 */
export function createAttentionBlock(params: Params, name: string, c: number): AttentionBlock {
  return {
    norm: params.norm(`${name}.norm`, c),
    q: params.dense(`${name}.q`, c, c),
    k: params.dense(`${name}.k`, c, c),
    v: params.dense(`${name}.v`, c, c),
    proj: params.dense(`${name}.proj`, c, c, true),
  };
}

/**
 * DDPM's single-head self-attention over the H W positions, with a residual, `h`: `[B, H, W, c]` -> same shape:
 *
 *     attn(h) = h + proj(softmax(q k^T / sqrt(c)) v),  q, k, v = 1x1(gn(h))
 */
export function attentionBlock(h: tf.Tensor4D, p: AttentionBlock): tf.Tensor4D {
  const [b, hh, ww, c] = h.shape;
  const flat = tf.reshape(groupNorm(h, p.norm), [b * hh * ww, c]) as tf.Tensor2D;
  const q = tf.reshape(applyDense(flat, p.q), [b, hh * ww, c]) as tf.Tensor3D;
  const k = tf.reshape(applyDense(flat, p.k), [b, hh * ww, c]) as tf.Tensor3D;
  const v = tf.reshape(applyDense(flat, p.v), [b, hh * ww, c]) as tf.Tensor3D;
  const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(c)));
  const o = tf.reshape(tf.matMul(weights, v), [b * hh * ww, c]) as tf.Tensor2D;
  return tf.add(h, tf.reshape(applyDense(o, p.proj), [b, hh, ww, c]));
}
