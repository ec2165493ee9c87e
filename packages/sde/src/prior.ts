import * as tf from "@tensorflow/tfjs-core";
import { normalArray } from "./random";
import type { Prior, PriorJSON } from "./types";
import { assertOneOf } from "./util";

/** Parameters of an elementwise prior; arrays broadcast over the trailing axes of a sample as `shape` says. */
export interface PriorParams {
  /** A number, or one value per element of `shape`. */
  loc: number | ArrayLike<number>;
  scale: number | ArrayLike<number>;
  /** Trailing shape that `loc` and `scale` cover: `[channels]` per channel, `[h, w, c]` per pixel; default `[1]`. */
  shape?: readonly number[];
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The log-normal prior X_T = exp(loc + scale Z), Z ~ N(0, I) (docs/method.md, section 4).
 *
 * @example
 * const prior = lognormalPrior({ loc: 0.15652, scale: 0.83528 }); // the reference MNIST prior
 * const xT = prior.sample([16, 28, 28, 1], 0);
 */
export function lognormalPrior(params: PriorParams): Prior {
  return elementwisePrior("lognormal", params);
}

/** The Gaussian prior X_T = loc + scale Z of the additive SDEs. */
export function normalPrior(params: PriorParams): Prior {
  return elementwisePrior("normal", params);
}

/** Rebuilds a prior from {@link Prior.toJSON}. */
export function priorFromJSON(json: PriorJSON): Prior {
  assertOneOf(json?.family, ["lognormal", "normal"], "priorFromJSON", "family");
  return elementwisePrior(json.family, json);
}

function elementwisePrior(family: "lognormal" | "normal", params: PriorParams): Prior {
  const fn = `${family}Prior`;
  // The parameters may come from a checkpoint's JSON: anything but an array of positive integers is refused by name.
  if (params.shape !== undefined && !(Array.isArray(params.shape) && params.shape.every((d) => Number.isInteger(d) && d > 0))) {
    throw new Error(`${fn}: shape must be an array of positive integers (the trailing axes that loc and scale cover), got ${JSON.stringify(params.shape)}.`);
  }
  const shape = [...(params.shape ?? [1])];
  const size = shape.reduce((a, b) => a * b, 1);
  const loc = expand(params.loc, size, fn, "loc");
  const scale = expand(params.scale, size, fn, "scale");
  scale.forEach((s, i) => {
    if (!(s > 0)) throw new Error(`${fn}: scale must be positive everywhere, got ${s} at index ${i}.`);
  });

  const broadcastShape = (sampleShape: readonly number[]): number[] => {
    const trailing = sampleShape.slice(1);
    const suffix = trailing.slice(Math.max(0, trailing.length - shape.length));
    const ok =
      shape.length <= trailing.length && shape.every((d, i) => d === 1 || d === suffix[i]);
    if (!ok && size !== 1) {
      throw new Error(
        `${fn}: parameters of shape [${shape}] do not broadcast over samples of shape [${sampleShape}] ` +
          `(expected trailing axes [${shape}]).`,
      );
    }
    return size === 1 ? [] : shape;
  };
  const locTensor = (s: readonly number[]) => tf.tensor(loc, broadcastShape(s));
  const scaleTensor = (s: readonly number[]) => tf.tensor(scale, broadcastShape(s));

  return {
    family,
    sample(sampleShape, seed) {
      return tf.tidy(() => {
        const z = tf.tensor(normalArray(sampleShape.reduce((a, b) => a * b, 1), seed), [...sampleShape]);
        const y = tf.add(locTensor(sampleShape), tf.mul(scaleTensor(sampleShape), z));
        return family === "lognormal" ? tf.exp(y) : y;
      });
    },
    logProb(x) {
      return tf.tidy(() => {
        const m = locTensor(x.shape);
        const s = scaleTensor(x.shape);
        const y = family === "lognormal" ? tf.log(x) : x;
        const z = tf.div(tf.sub(y, m), s);
        let lp = tf.neg(tf.add(tf.add(tf.mul(0.5, tf.square(z)), tf.log(s)), HALF_LOG_2PI));
        if (family === "lognormal") lp = tf.sub(lp, y); // Jacobian of x = exp(y)
        const axes = x.shape.map((_, i) => i).slice(1);
        return axes.length > 0 ? tf.sum(lp, axes) : lp;
      });
    },
    toJSON: () => ({ family, loc: Array.from(loc), scale: Array.from(scale), shape }),
  };
}

function expand(v: number | ArrayLike<number>, size: number, fn: string, arg: string): Float32Array {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`${fn}: ${arg} must be finite, got ${v}.`);
    return new Float32Array(size).fill(v);
  }
  if (v === null || typeof v !== "object" || typeof v.length !== "number") {
    throw new Error(`${fn}: ${arg} must be a finite number or an array of ${size}, got ${JSON.stringify(v) ?? String(v)}.`);
  }
  if (v.length !== size) throw new Error(`${fn}: ${arg} must have ${size} values to match shape, got ${v.length}.`);
  // Each entry is checked before conversion: Float32Array.from would turn null into 0 and "1" into 1.
  for (let i = 0; i < size; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${fn}: ${arg} must be finite everywhere, got ${JSON.stringify(x) ?? String(x)} at index ${i}.`);
  }
  return Float32Array.from(v);
}
