// Every net the bench can time behind one interface: the reference conv nets (src/nets.ts) and Dale's U-Net
// (@dale/models), whose PyTorch twin is python/unet_torch.py.
import * as tf from "@tensorflow/tfjs-core";
import { createUNet, unetPresets } from "@dale/models";
import { REF_CNN_IMAGE, REF_CNN_KINDS, buildRefCnn, refCnnParamCount, type RefCnnKind } from "./nets";

/** U-Net presets of @dale/models that the bench times, as `unet-<preset>`. */
export const UNET_NETS = ["unet-mnistSmall", "unet-tiny", "unet-cifar10Small", "unet-cifar10"] as const;
export type UNetNet = (typeof UNET_NETS)[number];

/** What `--nets` accepts: the reference conv nets (`small`, `wide`) and the U-Nets. */
export const BENCH_NETS = [...REF_CNN_KINDS, ...UNET_NETS] as const;
export type BenchNet = RefCnnKind | UNetNet;

export function isUNetNet(net: string): net is UNetNet {
  return (UNET_NETS as readonly string[]).includes(net);
}

/** The name in tables and logs: `ref-cnn-small`, `unet-mnistSmall`. */
export function netLabel(net: BenchNet): string {
  return isUNetNet(net) ? net : `ref-cnn-${net}`;
}

function unetConfig(net: UNetNet) {
  const preset = unetPresets[net.slice("unet-".length) as keyof typeof unetPresets];
  // Dropout off: the PyTorch twin has none, and the bench times the arithmetic.
  return { ...preset, dropout: 0 };
}

/**
 * A net as the bench times it, on fixed inputs: `[x, target]` for a reference net, `[x, t, target]` for a U-Net
 * (x, target `[batch, 28, 28, 1]`, or the preset's image size, e.g. `[batch, 32, 32, 3]` for `unet-cifar10`; t
 * `[batch]` uniform in [0, 1)). The loss is the mean squared error of the output
 * against the target, as in python/bench_torch.py.
 */
export interface BenchModel {
  net: BenchNet;
  vars: tf.Variable[];
  paramCount: number;
  /** The fixed inputs for a batch (the caller disposes them). */
  inputs(batch: number): tf.Tensor[];
  /** The scalar loss on `inputs` (a tidy: only the scalar is left). */
  loss(inputs: tf.Tensor[]): tf.Scalar;
  /** The output on `inputs` (a tidy: only the output is left). */
  forward(inputs: tf.Tensor[]): tf.Tensor;
  dispose(): void;
}

/** Builds a bench net with seeded weights (U-Nets: He-normal everywhere, no zero-initialised layers). */
export function buildBenchModel(net: BenchNet, seed = 0): BenchModel {
  const shapeOf = (h: number, w: number, c: number) => (batch: number, s: number) => tf.randomNormal<tf.Rank.R4>([batch, h, w, c], 0, 1, "float32", s);
  if (isUNetNet(net)) {
    const config = unetConfig(net);
    const images = shapeOf(config.imageSize[0], config.imageSize[1], config.channels);
    const model = createUNet(config, { seed, zeroInit: false, name: `bench-${net}` });
    return {
      net,
      vars: model.variables,
      paramCount: model.variables.reduce((n, v) => n + v.size, 0),
      inputs: (batch) => [images(batch, 101), tf.randomUniform([batch], 0, 1, "float32", 103), images(batch, 102)],
      loss: ([x, t, target]) => tf.tidy(() => tf.mean(tf.squaredDifference(model.apply(x as tf.Tensor, t as tf.Tensor), target as tf.Tensor))),
      forward: ([x, t]) => model.apply(x as tf.Tensor, t as tf.Tensor),
      dispose: () => model.dispose(),
    };
  }
  const { height, width, channels } = REF_CNN_IMAGE;
  const images = shapeOf(height, width, channels);
  const cnn = buildRefCnn(net, { seed });
  return {
    net,
    vars: cnn.vars as tf.Variable[],
    paramCount: cnn.paramCount,
    inputs: (batch) => [images(batch, 101), images(batch, 102)],
    loss: ([x, target]) => cnn.loss(x as tf.Tensor4D, target as tf.Tensor4D),
    forward: ([x]) => cnn.forward(x as tf.Tensor4D),
    dispose: () => cnn.dispose(),
  };
}

/** Parameter count of a bench net (the U-Net's is built and counted once, then cached). */
export function benchParamCount(net: BenchNet): number {
  if (!isUNetNet(net)) return refCnnParamCount(net);
  let n = unetCounts.get(net);
  if (n === undefined) {
    const m = buildBenchModel(net);
    n = m.paramCount;
    m.dispose();
    unetCounts.set(net, n);
  }
  return n;
}
const unetCounts = new Map<UNetNet, number>();
