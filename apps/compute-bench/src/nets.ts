// The reference conv nets, written with plain tfjs-core ops. python/bench_torch.py builds the same nets in PyTorch;
// keep the two in step (the tests compare their parameter counts).
import * as tf from "@tensorflow/tfjs-core";

/** The two reference nets: `wide` doubles every channel count of `small`. */
export const REF_CNN_KINDS = ["small", "wide"] as const;
export type RefCnnKind = (typeof REF_CNN_KINDS)[number];

/** Input and output: one 28x28 channel, NHWC in tfjs (`[batch, 28, 28, 1]`), NCHW in PyTorch. */
export const REF_CNN_IMAGE = { height: 28, width: 28, channels: 1 } as const;

/** Base width of each net: the channels of its first conv. */
export const REF_CNN_WIDTH: Readonly<Record<RefCnnKind, number>> = { small: 32, wide: 64 };

/** One 3x3 conv, stride 1, 'same' padding (pad 1), no bias. */
export interface ConvSpec {
  name: string;
  inChannels: number;
  outChannels: number;
}

/**
 * The eight convs of a reference net, in order. With w = 32 (small) or 64 (wide):
 *
 *     x [b,28,28,1] -> conv1 1->w, relu -> conv2 w->w, relu = skip
 *       -> avgPool 2x2 stride 2 [b,14,14,w]
 *       -> conv3 w->2w, relu -> conv4 2w->2w, relu -> conv5 2w->2w, relu -> conv6 2w->w, relu
 *       -> nearest-neighbour upsampling x2 [b,28,28,w] + skip
 *       -> conv7 w->w, relu -> conv8 w->1 (no activation) = y [b,28,28,1]
 */
export function refCnnLayers(kind: RefCnnKind): ConvSpec[] {
  const w = REF_CNN_WIDTH[kind];
  if (w === undefined) throw new Error(`refCnnLayers: kind must be one of ${REF_CNN_KINDS.join(", ")}, got "${String(kind)}".`);
  const shape: [number, number][] = [
    [1, w],
    [w, w],
    [w, 2 * w],
    [2 * w, 2 * w],
    [2 * w, 2 * w],
    [2 * w, w],
    [w, w],
    [w, 1],
  ];
  return shape.map(([inChannels, outChannels], i) => ({ name: `conv${i + 1}`, inChannels, outChannels }));
}

/** Number of weights: sum over the convs of 3 * 3 * in * out (small: 129600, wide: 517248). */
export function refCnnParamCount(kind: RefCnnKind): number {
  return refCnnLayers(kind).reduce((n, c) => n + 9 * c.inChannels * c.outChannels, 0);
}

export interface BuildRefCnnOptions {
  /** Seed of the He-normal initial weights; conv i uses seed + i. Default 0. */
  seed?: number;
}

/** A reference net: its weights and what the bench times. */
export interface RefCnn {
  kind: RefCnnKind;
  layers: readonly ConvSpec[];
  /** The conv kernels, `[3, 3, in, out]`, in the order of `layers`. */
  vars: tf.Variable<tf.Rank.R4>[];
  paramCount: number;
  /** y = net(x) for x `[batch, 28, 28, 1]`; runs in a tidy, so only y is left for the caller to dispose. */
  forward(x: tf.Tensor4D): tf.Tensor4D;
  /** Mean squared error between net(x) and target (both `[batch, 28, 28, 1]`), as a scalar. */
  loss(x: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar;
  /**
   * One optimiser step on the MSE loss over `vars`; returns the loss before the step (the caller disposes it).
   * The optimiser's own state (Adam's moments) is created on its first step and lives until `optimizer.dispose()`.
   */
  lossAndStep(x: tf.Tensor4D, target: tf.Tensor4D, optimizer: tf.Optimizer): tf.Scalar;
  /** Disposes the weights. */
  dispose(): void;
}

function checkImage(x: tf.Tensor, what: string, fn: string): void {
  const { height, width, channels } = REF_CNN_IMAGE;
  if (x.rank !== 4 || x.shape[1] !== height || x.shape[2] !== width || x.shape[3] !== channels) {
    throw new Error(`${fn}: ${what} must have shape [batch, ${height}, ${width}, ${channels}], got [${x.shape.join(", ")}].`);
  }
}

/**
 * Builds a reference net with He-normal weights (std sqrt(2 / (9 in)), like `torch.nn.init.kaiming_normal_` with
 * mode fan_in and relu). Training uses plain tfjs ops, so the active backend needs the kernels of their gradients
 * (Conv2DBackpropInput, Conv2DBackpropFilter, AvgPoolGrad, ResizeNearestNeighborGrad) and the gradients must be
 * registered: `import "@dale/backend"` does that.
 *
 * @example
 * const net = buildRefCnn("small");
 * const opt = tf.train.adam(1e-3);
 * const loss = net.lossAndStep(x, target, opt); // x, target: [b, 28, 28, 1]
 */
export function buildRefCnn(kind: RefCnnKind, options: BuildRefCnnOptions = {}): RefCnn {
  const seed = options.seed ?? 0;
  const layers = refCnnLayers(kind);
  const vars = layers.map((c, i) =>
    tf.tidy(() =>
      tf.variable<tf.Rank.R4>(
        tf.randomNormal<tf.Rank.R4>([3, 3, c.inChannels, c.outChannels], 0, Math.sqrt(2 / (9 * c.inChannels)), "float32", seed + i),
        true,
      ),
    ),
  );
  const w = (i: number) => vars[i] as tf.Variable<tf.Rank.R4>;
  const conv = (x: tf.Tensor4D, i: number) => tf.conv2d(x, w(i), 1, "same");
  const convRelu = (x: tf.Tensor4D, i: number) => tf.relu(conv(x, i));

  const forward = (x: tf.Tensor4D): tf.Tensor4D => {
    checkImage(x, "x", "RefCnn.forward");
    return tf.tidy(() => {
      const skip = convRelu(convRelu(x, 0), 1);
      let h = tf.avgPool(skip, 2, 2, "valid");
      for (let i = 2; i <= 5; i++) h = convRelu(h, i);
      // Nearest neighbour x2 without corner alignment: output pixel (i, j) reads (floor(i/2), floor(j/2)), which is
      // what torch's F.interpolate(scale_factor=2, mode="nearest") does.
      const up = tf.image.resizeNearestNeighbor(h, [skip.shape[1], skip.shape[2]], false, false);
      return conv(convRelu(tf.add(up, skip), 6), 7);
    });
  };

  const loss = (x: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar => {
    checkImage(target, "target", "RefCnn.loss");
    return tf.tidy(() => tf.mean(tf.squaredDifference(forward(x), target)));
  };

  const lossAndStep = (x: tf.Tensor4D, target: tf.Tensor4D, optimizer: tf.Optimizer): tf.Scalar => {
    const cost = optimizer.minimize(() => loss(x, target), true, vars);
    if (cost === null) throw new Error("RefCnn.lossAndStep: the optimiser returned no loss.");
    return cost;
  };

  return {
    kind,
    layers,
    vars,
    paramCount: vars.reduce((n, v) => n + v.size, 0),
    forward,
    loss,
    lossAndStep,
    dispose: () => vars.forEach((v) => v.dispose()),
  };
}
