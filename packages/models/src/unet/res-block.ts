import * as tf from "@tensorflow/tfjs-core";
import { groupNorm, silu } from "./layers";
import { applyConv, applyDense, type Lin, type Norm, type Params } from "./params";

/** Weights of one residual block; `skip` (a 1x1 conv) only when the channels change. */
export interface ResBlock { norm1: Norm; conv1: Lin; temb: Lin; norm2: Norm; conv2: Lin; skip?: Lin }

/**
 * Makes a residual block's weights `cin -> cout` in this order: `${name}.norm1`, `.conv1` (3x3), `.temb` (dense from
 * the `tembChannels` of the time embedding), `.norm2`, `.conv2` (3x3, zero-initialised), and `.skip` (1x1) when
 * `cin !== cout`.
 */
export function createResBlock(params: Params, name: string, cin: number, cout: number, tembChannels: number): ResBlock {
  return {
    norm1: params.norm(`${name}.norm1`, cin),
    conv1: params.conv(`${name}.conv1`, 3, cin, cout),
    temb: params.dense(`${name}.temb`, tembChannels, cout),
    norm2: params.norm(`${name}.norm2`, cout),
    conv2: params.conv(`${name}.conv2`, 3, cout, cout, true),
    ...(cin !== cout ? { skip: params.conv(`${name}.skip`, 1, cin, cout) } : {}),
  };
}

/**
 * DDPM's residual block (Ho et al. 2020, Appendix B), `h`: `[B, H, W, cin]` -> `[B, H, W, cout]`:
 *
 *     res(h) = skip(h) + conv2(dropout(silu(gn(conv1(silu(gn(h))) + dense(temb)))))
 *
 * where `temb` (`[B, 4 ch]`) already went through SiLU (`timeEmbedding`) and `skip` is the identity when the
 * channels do not change. `dropout` is applied between the second SiLU and conv2 (the identity outside training).
 */
export function resBlock(h: tf.Tensor4D, p: ResBlock, temb: tf.Tensor2D, dropout: (y: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  let y = applyConv(silu(groupNorm(h, p.norm1)), p.conv1);
  y = tf.add(y, tf.reshape(applyDense(temb, p.temb), [h.shape[0], 1, 1, -1]));
  y = dropout(silu(groupNorm(y, p.norm2)));
  y = applyConv(y, p.conv2);
  return tf.add(p.skip ? applyConv(h, p.skip) : h, y);
}
