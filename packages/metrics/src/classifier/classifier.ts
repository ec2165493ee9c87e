import * as tf from "@tensorflow/tfjs-core";
import { checkImages, imageBatch, type LabelledImages } from "./data";
import { decodeTensors, encodeTensors, type RawTensor } from "./format";
import { createRng } from "./rng";

/** The architecture and input scaling of a classifier; stored in its file, enough to rebuild it. */
export interface ClassifierConfig {
  /** `[height, width]` of the images; both must divide by 2^(widths.length - 1). */
  imageSize: [number, number];
  /** Image channels (1 for MNIST, 3 for CIFAR-10). */
  channels: number;
  /** Number of classes of the head. */
  classes: number;
  /** Channels of the 3x3 convolution at each resolution level; a 2x2 average pool halves the resolution between levels. */
  widths: number[];
  /** Length of the feature layer (the dimension of the features used for FID and KID). */
  featureDim: number;
  /** Per-channel mean and standard deviation of the training pixels in [0, 1]; the network sees (x - mean) / std. */
  mean: number[];
  std: number[];
}

/** How a classifier was trained and how well it does; stored in its file with the weights. */
export interface ClassifierInfo {
  /** What it was trained on, e.g. "mnist"; appears in feature names. */
  dataset: string;
  seed: number;
  /** Optimiser steps taken, of `batchSize` images each. */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Images it was trained on. */
  trainCount: number;
  /** Held-out images its accuracy was measured on (0 when none were given). */
  testCount: number;
  /** Fraction of the held-out images classified correctly, or null when none were given. */
  testAccuracy: number | null;
}

/** The outcome of {@link Classifier.evaluate}. */
export interface Evaluation {
  /** correct / count. */
  accuracy: number;
  correct: number;
  count: number;
}

/**
 * A small image classifier (see {@link trainClassifier}) whose feature layer serves FID and KID where the Inception
 * weights are absent. Every tensor method takes float32 `[N, H, W, C]` images in [0, 1] of the training size, leaves
 * the input to the caller and returns a new tensor.
 */
export interface Classifier {
  readonly config: Readonly<ClassifierConfig>;
  readonly info: Readonly<ClassifierInfo>;
  /** sha256 (hex) of the weights as stored in the file; names this exact network. */
  readonly sha256: string;
  /** The feature layer (after its ReLU), `[N, featureDim]`. */
  features(images: tf.Tensor4D): tf.Tensor2D;
  /** Unnormalised class scores, `[N, classes]`. */
  logits(images: tf.Tensor4D): tf.Tensor2D;
  /** softmax(logits), `[N, classes]`. */
  probabilities(images: tf.Tensor4D): tf.Tensor2D;
  /** `features(images)` and `probabilities(images)` from one forward pass. */
  featuresAndProbabilities(images: tf.Tensor4D): { features: tf.Tensor2D; probabilities: tf.Tensor2D };
  /** Accuracy on labelled host images, in batches of `batchSize` (default 256). */
  evaluate(data: LabelledImages, options?: { batchSize?: number }): Evaluation;
  /** The file: safetensors layout with the config, info and a sha256 of the weights in its metadata. */
  toBytes(): Uint8Array;
  /** Frees the weights; the classifier is unusable afterwards. */
  dispose(): void;
}

/**
 * Default architecture: 3x3 convolutions of 32, 64 and 128 channels at full, half and quarter resolution, then a 128-d
 * feature layer on the flattened map (896k weights at 28x28x1, 1.14M at 32x32x3).
 */
export const DEFAULT_WIDTHS: readonly number[] = [32, 64, 128];
export const DEFAULT_FEATURE_DIM = 128;

/** Names and shapes of the weights of `config`, in file order. */
export function weightShapes(config: ClassifierConfig): [string, number[]][] {
  const out: [string, number[]][] = [];
  let cin = config.channels;
  config.widths.forEach((w, i) => {
    out.push([`conv${i}.w`, [3, 3, cin, w]], [`conv${i}.b`, [w]]);
    cin = w;
  });
  const down = 2 ** (config.widths.length - 1);
  const flat = cin * (config.imageSize[0] / down) * (config.imageSize[1] / down);
  out.push(["fc.w", [flat, config.featureDim]], ["fc.b", [config.featureDim]]);
  out.push(["head.w", [config.featureDim, config.classes]], ["head.b", [config.classes]]);
  return out;
}

/** Checks a config; errors name `fn` and the field. */
export function checkConfig(config: ClassifierConfig, fn: string): void {
  const posInt = (v: unknown, name: string) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${String(v)}.`);
  };
  if (!Array.isArray(config.imageSize) || config.imageSize.length !== 2) throw new Error(`${fn}: imageSize must be [height, width].`);
  config.imageSize.forEach((v, i) => posInt(v, `imageSize[${i}]`));
  posInt(config.channels, "channels");
  posInt(config.classes, "classes");
  posInt(config.featureDim, "featureDim");
  if (!Array.isArray(config.widths) || config.widths.length < 1) throw new Error(`${fn}: widths must be a non-empty array of positive integers.`);
  config.widths.forEach((v, i) => posInt(v, `widths[${i}]`));
  const factor = 2 ** (config.widths.length - 1);
  const [h, w] = config.imageSize;
  if (h % factor !== 0 || w % factor !== 0) {
    throw new Error(`${fn}: imageSize [${h}, ${w}] must divide by 2^(widths.length - 1) = ${factor} (each level but the last halves it).`);
  }
  for (const k of ["mean", "std"] as const) {
    const v = config[k];
    if (!Array.isArray(v) || v.length !== config.channels || !v.every((x) => Number.isFinite(x))) {
      throw new Error(`${fn}: ${k} must hold one finite number per channel (${config.channels}).`);
    }
  }
  if (!config.std.every((s) => s > 0)) throw new Error(`${fn}: std must be positive.`);
}

/**
 * Initial weights: He-normal (std sqrt(2 / fan_in)) for the convolutions and the feature layer, std sqrt(1 / fan_in)
 * for the linear head, zero biases; drawn in file order from xoshiro128**(seed, stream 1).
 */
export function initialWeights(config: ClassifierConfig, seed: number): [string, RawTensor][] {
  const rng = createRng(seed, 1);
  return weightShapes(config).map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length > 1) {
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt((name === "head.w" ? 1 : 2) / fanIn);
      for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    }
    return [name, { data, shape }];
  });
}

/**
 * The network, from plain tfjs ops (NHWC):
 *
 *     h_0 = (x - mean) / std
 *     h_{i+1} = avgpool2x2(relu(conv3x3(h_i) + b_i))        for every level but the last, which has no pool
 *     features = relu(fc(flatten(h_L)))                     [N, featureDim]
 *     logits = head(features)                               [N, classes]
 */
export function forward(weights: Record<string, tf.Tensor>, config: ClassifierConfig, x: tf.Tensor4D): { features: tf.Tensor2D; logits: tf.Tensor2D } {
  return tf.tidy(() => {
    const w = (name: string) => {
      const t = weights[name];
      if (t === undefined) throw new Error(`classifier: missing weight "${name}".`);
      return t;
    };
    let h = tf.div(tf.sub(x, tf.tensor1d(config.mean)), tf.tensor1d(config.std)) as tf.Tensor4D;
    config.widths.forEach((_, i) => {
      h = tf.fused.conv2d({ x: h, filter: w(`conv${i}.w`) as tf.Tensor4D, strides: 1, pad: "same", bias: w(`conv${i}.b`), activation: "relu" });
      if (i < config.widths.length - 1) h = tf.avgPool(h, 2, 2, "valid");
    });
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    const features = tf.fused.matMul({ a: flat, b: w("fc.w") as tf.Tensor2D, bias: w("fc.b"), activation: "relu" }) as tf.Tensor2D;
    const logits = tf.fused.matMul({ a: features, b: w("head.w") as tf.Tensor2D, bias: w("head.b") }) as tf.Tensor2D;
    return { features, logits };
  });
}

/** Wraps weights (taken over, freed by `dispose`) into a {@link Classifier}. */
export function makeClassifier(config: ClassifierConfig, info: ClassifierInfo, weights: Record<string, tf.Tensor>, sha256?: string): Classifier {
  let disposed = false;
  let hash = sha256;
  let bytes: Uint8Array | null = null;
  const live = (fn: string) => {
    if (disposed) throw new Error(`classifier.${fn}: the classifier was disposed.`);
  };
  const checkInput = (images: tf.Tensor4D, fn: string) => {
    live(fn);
    const [h, w] = config.imageSize;
    if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.shape[1] !== h || images.shape[2] !== w || images.shape[3] !== config.channels) {
      const got = images instanceof tf.Tensor ? `[${images.shape.join(", ")}]` : typeof images;
      throw new Error(
        `classifier.${fn}: images must be a [N, ${h}, ${w}, ${config.channels}] tensor in [0, 1] (the size this ` +
          `${info.dataset} classifier was trained on), got ${got}.`,
      );
    }
    if (images.dtype !== "float32") throw new Error(`classifier.${fn}: images must be float32, got ${images.dtype}.`);
  };
  // Large batches go through in chunks so that the activations stay small.
  const chunked = (images: tf.Tensor4D, pick: (x: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D => {
    const n = images.shape[0];
    const chunk = 256;
    if (n <= chunk) return tf.tidy(() => pick(images));
    const parts: tf.Tensor2D[] = [];
    try {
      for (let i = 0; i < n; i += chunk) {
        parts.push(tf.tidy(() => pick(tf.slice(images, [i, 0, 0, 0], [Math.min(chunk, n - i), -1, -1, -1]))));
      }
      return tf.concat(parts, 0);
    } finally {
      tf.dispose(parts);
    }
  };
  const run = (x: tf.Tensor4D, which: "features" | "logits") => {
    const out = forward(weights, config, x);
    tf.dispose(which === "features" ? out.logits : out.features);
    return out[which];
  };
  const toBytes = (): Uint8Array => {
    live("toBytes");
    if (bytes === null) {
      const raw = weightShapes(config).map(([name, shape]): [string, RawTensor] => {
        const t = weights[name];
        if (t === undefined) throw new Error(`classifier.toBytes: missing weight "${name}".`);
        return [name, { data: t.dataSync() as Float32Array, shape }];
      });
      const encoded = encodeTensors(raw, { config: JSON.stringify(config), info: JSON.stringify(info) });
      bytes = encoded.bytes;
      hash = encoded.sha256;
    }
    return bytes.slice();
  };
  return {
    config,
    info,
    get sha256() {
      if (hash === undefined) toBytes();
      return hash as string;
    },
    features(images) {
      checkInput(images, "features");
      return chunked(images, (x) => run(x, "features"));
    },
    logits(images) {
      checkInput(images, "logits");
      return chunked(images, (x) => run(x, "logits"));
    },
    probabilities(images) {
      checkInput(images, "probabilities");
      return chunked(images, (x) => tf.softmax(run(x, "logits")));
    },
    featuresAndProbabilities(images) {
      checkInput(images, "featuresAndProbabilities");
      // Both side by side in one tensor, so that the chunking above serves them too, then split.
      const both = chunked(images, (x) => {
        const out = forward(weights, config, x);
        return tf.concat([out.features, tf.softmax(out.logits)], 1) as tf.Tensor2D;
      });
      try {
        const [features, probabilities] = tf.split(both, [config.featureDim, config.classes], 1) as [tf.Tensor2D, tf.Tensor2D];
        return { features, probabilities };
      } finally {
        both.dispose();
      }
    },
    evaluate(data, options = {}) {
      live("evaluate");
      const maxLabel = checkImages(data, "classifier.evaluate", "data");
      const [h, w] = config.imageSize;
      if (data.height !== h || data.width !== w || data.channels !== config.channels) {
        throw new Error(`classifier.evaluate: data holds ${data.height}x${data.width}x${data.channels} images; this classifier takes ${h}x${w}x${config.channels}.`);
      }
      if (maxLabel >= config.classes) throw new Error(`classifier.evaluate: data.labels has class ${maxLabel}, but the classifier has ${config.classes} classes.`);
      const batchSize = options.batchSize ?? 256;
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`classifier.evaluate: batchSize must be a positive integer, got ${batchSize}.`);
      let correct = 0;
      for (let i = 0; i < data.count; i += batchSize) {
        const end = Math.min(i + batchSize, data.count);
        const argmax = tf.tidy(() => tf.argMax(run(imageBatch(data, i, end), "logits"), 1));
        const predicted = argmax.dataSync();
        argmax.dispose();
        for (let k = 0; k < predicted.length; k++) if (predicted[k] === data.labels[i + k]) correct++;
      }
      return { accuracy: data.count === 0 ? NaN : correct / data.count, correct, count: data.count };
    },
    toBytes,
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(Object.values(weights));
    },
  };
}

/**
 * Rebuilds a classifier from its file ({@link Classifier.toBytes}). A truncated or corrupted file (any byte of the
 * weights changed: their sha256 is checked) is an error that starts with `source` and says which.
 */
export function classifierFromBytes(bytes: Uint8Array, source = "classifierFromBytes"): Classifier {
  const { tensors, metadata, sha256 } = decodeTensors(bytes, source);
  let config: ClassifierConfig;
  let info: ClassifierInfo;
  try {
    config = JSON.parse(metadata.config ?? "") as ClassifierConfig;
    info = JSON.parse(metadata.info ?? "") as ClassifierInfo;
  } catch (err) {
    throw new Error(`${source}: corrupted: the config or info in the metadata is not valid JSON (${(err as Error).message}).`);
  }
  checkConfig(config, source);
  const shapes = weightShapes(config);
  if (tensors.size !== shapes.length) throw new Error(`${source}: corrupted: ${tensors.size} tensors, the config needs ${shapes.length}.`);
  for (const [name, shape] of shapes) {
    const t = tensors.get(name);
    if (t === undefined || t.shape.join(",") !== shape.join(",")) {
      throw new Error(`${source}: corrupted: weight "${name}" should have shape [${shape}], got ${t === undefined ? "none" : `[${t.shape}]`}.`);
    }
  }
  const weights = tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, t] of tensors) out[name] = tf.keep(tf.tensor(t.data, t.shape, "float32"));
    return out;
  });
  return makeClassifier(config, info, weights, sha256);
}
