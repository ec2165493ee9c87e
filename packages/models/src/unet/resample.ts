import type * as tf from "@tensorflow/tfjs-core";
import { upsampleNearest2x } from "./layers";
import { applyConv, type Lin, type Params } from "./params";

/** Makes the weights of a down- or upsampling step over `c` channels: a 3x3 conv `${name}.w`, `${name}.b`. */
export function createResample(params: Params, name: string, c: number): Lin {
  return params.conv(name, 3, c, c);
}

/** DDPM's downsampling: a stride-2 3x3 conv ('same'), `[B, H, W, c]` -> `[B, H / 2, W / 2, c]`. */
export function downsample(h: tf.Tensor4D, p: Lin): tf.Tensor4D {
  return applyConv(h, p, 2);
}

/** DDPM's upsampling: nearest x2, then a 3x3 conv, `[B, H, W, c]` -> `[B, 2H, 2W, c]`. */
export function upsample(h: tf.Tensor4D, p: Lin): tf.Tensor4D {
  return applyConv(upsampleNearest2x(h), p);
}
