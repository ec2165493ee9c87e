import * as tf from "@tensorflow/tfjs-core";
import { normalArray } from "@dale/sde";

/** Weights of one GroupNorm (`gamma`, `beta`: `[c]`). */
export interface Norm { gamma: tf.Variable; beta: tf.Variable }
/** Weights of one convolution (`w`: `[kh, kw, in, out]`) or dense layer (`w`: `[in, out]`), with bias `b`: `[out]`. */
export interface Lin { w: tf.Variable; b: tf.Variable }

/**
 * Makes a U-Net's named weights, one seeded stream per variable in creation order, so that a variable's values
 * depend only on the seed and its position: He-normal weights (std sqrt(2 / fan_in)) drawn from
 * `normalArray(size, seed, stream)`, zero biases, unit GroupNorm scales. With `zeroInit`, the layers made with
 * `zero = true` start at zero; they still use up their stream, so the draws of every later variable are unchanged.
 */
export interface Params {
  /** Every variable made so far by its stable name (e.g. `down.0.res.1.conv1.w`), in creation order. */
  readonly named: Record<string, tf.Variable>;
  /** A GroupNorm over `c` channels: `${name}.gamma` (ones), `${name}.beta` (zeros). */
  norm(name: string, c: number): Norm;
  /** A k x k convolution `cin -> cout`: `${name}.w` (He-normal, fan_in k^2 cin, or zeros), `${name}.b` (zeros). */
  conv(name: string, k: number, cin: number, cout: number, zero?: boolean): Lin;
  /** A dense layer `cin -> cout`: `${name}.w` (He-normal, fan_in cin, or zeros), `${name}.b` (zeros). */
  dense(name: string, cin: number, cout: number, zero?: boolean): Lin;
}

/** Options of {@link createParams}. */
export interface ParamsOptions {
  /** Seed of the He-normal draws. */
  seed: number;
  /** Whether `zero = true` layers start at zero (else they are drawn like the others). */
  zeroInit: boolean;
  /** Prefix of the tfjs variable names: a variable named `n` is `${prefix}/${n}` in tfjs. */
  prefix: string;
}

/** A weight factory for one network; see {@link Params}. */
export function createParams({ seed, zeroInit, prefix }: ParamsOptions): Params {
  const named: Record<string, tf.Variable> = {};
  let stream = 0;
  const make = (name: string, shape: number[], init: "he" | "zeros" | "ones", fanIn = 1): tf.Variable => {
    const size = shape.reduce((a, b) => a * b, 1);
    const s = stream++;
    let data: Float32Array;
    if (init === "he") {
      data = normalArray(size, seed, s);
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < size; i++) data[i] = (data[i] as number) * std;
    } else data = new Float32Array(size).fill(init === "ones" ? 1 : 0);
    const v = tf.tidy(() => tf.variable(tf.tensor(data, shape, "float32"), true, `${prefix}/${name}`));
    named[name] = v;
    return v;
  };
  return {
    named,
    norm: (name, c) => ({ gamma: make(`${name}.gamma`, [c], "ones"), beta: make(`${name}.beta`, [c], "zeros") }),
    conv: (name, k, cin, cout, zero = false) => ({
      w: make(`${name}.w`, [k, k, cin, cout], zero && zeroInit ? "zeros" : "he", k * k * cin),
      b: make(`${name}.b`, [cout], "zeros"),
    }),
    dense: (name, cin, cout, zero = false) => ({
      w: make(`${name}.w`, [cin, cout], zero && zeroInit ? "zeros" : "he", cin),
      b: make(`${name}.b`, [cout], "zeros"),
    }),
  };
}

/** A 'same' convolution with bias: conv2d(x, w, strides) + b, `[B, H, W, in] -> [B, H / strides, W / strides, out]`. */
export function applyConv(x: tf.Tensor4D, p: Lin, strides: 1 | 2 = 1): tf.Tensor4D {
  return tf.add(tf.conv2d(x, p.w as tf.Tensor4D, strides, "same"), p.b);
}

/** A dense layer: x w + b, `[N, in] -> [N, out]`. */
export function applyDense(x: tf.Tensor2D, p: Lin): tf.Tensor2D {
  return tf.add(tf.matMul(x, p.w as tf.Tensor2D), p.b);
}
