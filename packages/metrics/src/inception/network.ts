/**
 * The Inception-v3 network of standard FID, in tfjs: the graph of TensorFlow's `inception-2015-12-05` as ported to
 * PyTorch by pytorch-fid (`fid_inception_v3()` in mseitzer/pytorch-fid `src/pytorch_fid/inception.py`), reading the
 * same state dict (`pt_inception-2015-12-05-6726825d.pth`).
 *
 * Layers (NHWC here, NCHW in PyTorch). Every "conv" is torchvision's BasicConv2d: Conv2d(bias=False), then
 * BatchNorm2d(eps=0.001) in eval mode, then ReLU; the BN is folded into the convolution when the weights are loaded:
 *
 *     y = relu(gamma * (W * x - mean) / sqrt(var + eps) + beta) = relu((s W) * x + (beta - s mean)),  s = gamma / sqrt(var + eps)
 *
 *     [N, H, W, C] in [0, 1] -> bilinear resize to 299 x 299 (align_corners=False, see resizeAxis) -> 2x - 1
 *     Conv2d_1a_3x3 (3x3 / 2, valid)  [N, 149, 149, 32]    Conv2d_2a_3x3 (3x3, valid)  [N, 147, 147, 32]
 *     Conv2d_2b_3x3 (3x3, same)       [N, 147, 147, 64]    max pool 3x3 / 2            [N, 73, 73, 64]
 *     Conv2d_3b_1x1                   [N, 73, 73, 80]      Conv2d_4a_3x3 (3x3, valid)  [N, 71, 71, 192]
 *     max pool 3x3 / 2                [N, 35, 35, 192]
 *     Mixed_5b, 5c, 5d  (InceptionA)  [N, 35, 35, 256 | 288 | 288]
 *     Mixed_6a          (InceptionB)  [N, 17, 17, 768]
 *     Mixed_6b .. 6e    (InceptionC)  [N, 17, 17, 768]
 *     Mixed_7a          (InceptionD)  [N, 8, 8, 1280]
 *     Mixed_7b, 7c      (InceptionE)  [N, 8, 8, 2048]
 *     mean over H, W -> pool3 features [N, 2048];  fc -> logits [N, 1008]
 *
 * Pooling, as pytorch-fid patches it to match TensorFlow:
 *   - the pool branch of Mixed_5b..5d, 6b..6e and 7b is avg_pool2d(3, stride 1, padding 1, count_include_pad=False):
 *     padded zeros are not counted. tfjs `avgPool(x, 3, 1, "same")` divides by the number of real pixels in the window
 *     (cpu: pool_utils counts only in-bounds pixels; wasm: XNNPACK's average pooling excludes padding), the same thing;
 *     `avgPool.test` checks it on the running backend;
 *   - Mixed_7c's pool branch is max_pool2d(3, stride 1, padding 1) (FIDInceptionE_2): tfjs `maxPool(x, 3, 1, "same")`;
 *   - Mixed_6a, Mixed_7a and the stem use max_pool2d(3, stride 2) without padding: `maxPool(x, 3, 2, "valid")`.
 * Convolutions with PyTorch padding (k - 1) / 2 and stride 1 are tfjs "same" (symmetric for odd k); the rest are "valid".
 */
import * as tf from "@tensorflow/tfjs-core";
import { torchTensorToFloat32, type TorchStateDict, type TorchTensor } from "../torch";

/** Side of the square images the network sees. */
export const INCEPTION_SIZE = 299;
/** Length of the pool3 feature vector. */
export const INCEPTION_FEATURE_DIM = 2048;
/** Classes of the 2015-12-05 graph's softmax (1000 ImageNet classes and 8 unused ones). */
export const INCEPTION_CLASSES = 1008;
const BN_EPS = 0.001;

/** One BasicConv2d: its state-dict prefix, channels, kernel `[kh, kw]`, stride and tfjs padding. */
export interface InceptionConvSpec {
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: 1 | 2;
  pad: "same" | "valid";
}

function conv(name: string, inChannels: number, outChannels: number, kernel: [number, number], stride: 1 | 2 = 1, pad: "same" | "valid" = "valid"): InceptionConvSpec {
  return { name, inChannels, outChannels, kernel, stride, pad };
}

function blockA(p: string, cin: number, poolFeatures: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 64, [1, 1]),
    conv(`${p}.branch5x5_1`, cin, 48, [1, 1]),
    conv(`${p}.branch5x5_2`, 48, 64, [5, 5], 1, "same"),
    conv(`${p}.branch3x3dbl_1`, cin, 64, [1, 1]),
    conv(`${p}.branch3x3dbl_2`, 64, 96, [3, 3], 1, "same"),
    conv(`${p}.branch3x3dbl_3`, 96, 96, [3, 3], 1, "same"),
    conv(`${p}.branch_pool`, cin, poolFeatures, [1, 1]),
  ];
}

function blockB(p: string, cin: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch3x3`, cin, 384, [3, 3], 2),
    conv(`${p}.branch3x3dbl_1`, cin, 64, [1, 1]),
    conv(`${p}.branch3x3dbl_2`, 64, 96, [3, 3], 1, "same"),
    conv(`${p}.branch3x3dbl_3`, 96, 96, [3, 3], 2),
  ];
}

function blockC(p: string, cin: number, c7: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 192, [1, 1]),
    conv(`${p}.branch7x7_1`, cin, c7, [1, 1]),
    conv(`${p}.branch7x7_2`, c7, c7, [1, 7], 1, "same"),
    conv(`${p}.branch7x7_3`, c7, 192, [7, 1], 1, "same"),
    conv(`${p}.branch7x7dbl_1`, cin, c7, [1, 1]),
    conv(`${p}.branch7x7dbl_2`, c7, c7, [7, 1], 1, "same"),
    conv(`${p}.branch7x7dbl_3`, c7, c7, [1, 7], 1, "same"),
    conv(`${p}.branch7x7dbl_4`, c7, c7, [7, 1], 1, "same"),
    conv(`${p}.branch7x7dbl_5`, c7, 192, [1, 7], 1, "same"),
    conv(`${p}.branch_pool`, cin, 192, [1, 1]),
  ];
}

function blockD(p: string, cin: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch3x3_1`, cin, 192, [1, 1]),
    conv(`${p}.branch3x3_2`, 192, 320, [3, 3], 2),
    conv(`${p}.branch7x7x3_1`, cin, 192, [1, 1]),
    conv(`${p}.branch7x7x3_2`, 192, 192, [1, 7], 1, "same"),
    conv(`${p}.branch7x7x3_3`, 192, 192, [7, 1], 1, "same"),
    conv(`${p}.branch7x7x3_4`, 192, 192, [3, 3], 2),
  ];
}

function blockE(p: string, cin: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 320, [1, 1]),
    conv(`${p}.branch3x3_1`, cin, 384, [1, 1]),
    conv(`${p}.branch3x3_2a`, 384, 384, [1, 3], 1, "same"),
    conv(`${p}.branch3x3_2b`, 384, 384, [3, 1], 1, "same"),
    conv(`${p}.branch3x3dbl_1`, cin, 448, [1, 1]),
    conv(`${p}.branch3x3dbl_2`, 448, 384, [3, 3], 1, "same"),
    conv(`${p}.branch3x3dbl_3a`, 384, 384, [1, 3], 1, "same"),
    conv(`${p}.branch3x3dbl_3b`, 384, 384, [3, 1], 1, "same"),
    conv(`${p}.branch_pool`, cin, 192, [1, 1]),
  ];
}

/** Every convolution of the network, in forward order (94 of them). */
export const INCEPTION_CONVS: readonly InceptionConvSpec[] = [
  conv("Conv2d_1a_3x3", 3, 32, [3, 3], 2),
  conv("Conv2d_2a_3x3", 32, 32, [3, 3]),
  conv("Conv2d_2b_3x3", 32, 64, [3, 3], 1, "same"),
  conv("Conv2d_3b_1x1", 64, 80, [1, 1]),
  conv("Conv2d_4a_3x3", 80, 192, [3, 3]),
  ...blockA("Mixed_5b", 192, 32),
  ...blockA("Mixed_5c", 256, 64),
  ...blockA("Mixed_5d", 288, 64),
  ...blockB("Mixed_6a", 288),
  ...blockC("Mixed_6b", 768, 128),
  ...blockC("Mixed_6c", 768, 160),
  ...blockC("Mixed_6d", 768, 160),
  ...blockC("Mixed_6e", 768, 192),
  ...blockD("Mixed_7a", 768),
  ...blockE("Mixed_7b", 1280),
  ...blockE("Mixed_7c", 2048),
];

/** The state-dict keys and shapes the network reads (`num_batches_tracked` entries may be present and are ignored). */
export function inceptionStateDictShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const c of INCEPTION_CONVS) {
    shapes.set(`${c.name}.conv.weight`, [c.outChannels, c.inChannels, c.kernel[0], c.kernel[1]]);
    for (const p of ["weight", "bias", "running_mean", "running_var"]) shapes.set(`${c.name}.bn.${p}`, [c.outChannels]);
  }
  shapes.set("fc.weight", [INCEPTION_CLASSES, INCEPTION_FEATURE_DIM]);
  shapes.set("fc.bias", [INCEPTION_CLASSES]);
  return shapes;
}

interface FoldedConv {
  spec: InceptionConvSpec;
  /** `[kh, kw, in, out]`, BN scale folded in. */
  filter: tf.Tensor4D;
  /** `[out]`, BN shift. */
  bias: tf.Tensor1D;
}

/** Output of `FidInceptionV3.classify`. */
export interface InceptionOutputs {
  /** pool3 features `[N, 2048]`. */
  features: tf.Tensor2D;
  /** fc output `features W^T + b`, `[N, 1008]` (what PyTorch's `model.fc(features)` gives). */
  logits: tf.Tensor2D;
}

const FN = "FidInceptionV3";

/**
 * The FID Inception-v3 with weights in tfjs memory. Build it with `FidInceptionV3.fromStateDict`; call `dispose()`
 * when done.
 *
 * @example
 * const net = FidInceptionV3.fromStateDict(loadTorchStateDict("pt_inception-2015-12-05-6726825d.pth"));
 * const f = net.features(images); // images [N, H, W, 1 | 3] in [0, 1] -> [N, 2048]
 */
export class FidInceptionV3 {
  private disposed = false;

  private constructor(
    private readonly convs: Map<string, FoldedConv>,
    /** `[2048, 1008]`: fc.weight transposed. */
    private readonly fcWeight: tf.Tensor2D,
    private readonly fcBias: tf.Tensor1D,
  ) {}

  /**
   * Builds the network from a PyTorch state dict with pytorch-fid's key names (`Conv2d_1a_3x3.conv.weight`,
   * `Mixed_5b.branch1x1.bn.running_mean`, ..., `fc.weight`, `fc.bias`). Every key must be present with its shape;
   * keys other than these and BatchNorm's `num_batches_tracked` are an error (they would mean another network).
   * BatchNorm is folded into the convolutions in float64, then stored as float32.
   */
  static fromStateDict(stateDict: TorchStateDict | ReadonlyMap<string, TorchTensor>): FidInceptionV3 {
    const tensors = stateDict instanceof Map ? stateDict : (stateDict as TorchStateDict).tensors;
    if (!(tensors instanceof Map)) throw new Error(`${FN}.fromStateDict: stateDict must be a TorchStateDict or a Map of tensors.`);
    const shapes = inceptionStateDictShapes();
    const missing = [...shapes.keys()].filter((k) => !tensors.has(k));
    const unexpected = [...tensors.keys()].filter((k) => !shapes.has(k) && !k.endsWith(".num_batches_tracked"));
    if (missing.length > 0 || unexpected.length > 0) {
      const list = (keys: string[]): string => `${keys.slice(0, 6).join(", ")}${keys.length > 6 ? `, ... (${keys.length} in all)` : ""}`;
      throw new Error(
        `${FN}.fromStateDict: the state dict is not pytorch-fid's FID Inception-v3 (pt_inception-2015-12-05).${missing.length > 0 ? ` Missing: ${list(missing)}.` : ""}${
          unexpected.length > 0 ? ` Unexpected: ${list(unexpected)}.` : ""
        }`,
      );
    }
    const get = (key: string): Float32Array => {
      const t = tensors.get(key) as TorchTensor;
      const want = shapes.get(key) as number[];
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new Error(`${FN}.fromStateDict: ${key} has shape [${t.shape.join(", ")}], expected [${want.join(", ")}].`);
      }
      if (t.dtype === "bool" || t.dtype.startsWith("int") || t.dtype === "uint8") throw new Error(`${FN}.fromStateDict: ${key} is ${t.dtype}, expected a float tensor.`);
      return torchTensorToFloat32(t);
    };
    const convs = new Map<string, FoldedConv>();
    const created: tf.Tensor[] = [];
    try {
      for (const spec of INCEPTION_CONVS) {
        const { filter, bias } = foldBatchNorm(
          spec,
          get(`${spec.name}.conv.weight`),
          get(`${spec.name}.bn.weight`),
          get(`${spec.name}.bn.bias`),
          get(`${spec.name}.bn.running_mean`),
          get(`${spec.name}.bn.running_var`),
        );
        const f = tf.tensor4d(filter, [spec.kernel[0], spec.kernel[1], spec.inChannels, spec.outChannels]);
        created.push(f);
        const b = tf.tensor1d(bias);
        created.push(b);
        convs.set(spec.name, { spec, filter: f, bias: b });
      }
      // fc.weight [1008, 2048] -> [2048, 1008] so that logits = features . W^T is a plain matMul.
      const w = get("fc.weight");
      const wt = new Float32Array(w.length);
      for (let o = 0; o < INCEPTION_CLASSES; o++) for (let i = 0; i < INCEPTION_FEATURE_DIM; i++) wt[i * INCEPTION_CLASSES + o] = w[o * INCEPTION_FEATURE_DIM + i] as number;
      const fcWeight = tf.tensor2d(wt, [INCEPTION_FEATURE_DIM, INCEPTION_CLASSES]);
      created.push(fcWeight);
      const fcBias = tf.tensor1d(get("fc.bias"));
      created.push(fcBias);
      return new FidInceptionV3(convs, fcWeight, fcBias);
    } catch (error) {
      for (const t of created) t.dispose();
      throw error;
    }
  }

  /**
   * pool3 features of a batch: `[N, H, W, C]` float32 in [0, 1], C = 1 (repeated to RGB) or 3, any H and W (resized
   * to 299 x 299 bilinearly with half-pixel centres, as F.interpolate(align_corners=False); see `resizeAxis`) ->
   * `[N, 2048]`.
   */
  features(images: tf.Tensor4D): tf.Tensor2D {
    return this.run("features", images, (pool3) => pool3);
  }

  /** Features and the fc logits `features W^T + b` (`[N, 1008]`), in one pass. */
  classify(images: tf.Tensor4D): InceptionOutputs {
    this.check("classify", images);
    return tf.tidy(() => {
      const features = this.pool3("classify", images);
      const logits = tf.add(tf.matMul(features, this.fcWeight), this.fcBias) as tf.Tensor2D;
      return { features, logits };
    });
  }

  /**
   * Inception Score class probabilities: `softmax(features W^T)` over all 1008 classes, without the fc bias, as in
   * the reference Inception Score code (openai/improved-gan, which reads `softmax/logits/MatMul`) and torch-fidelity's
   * and torchmetrics' default `logits_unbiased`. `[N, H, W, C]` -> `[N, 1008]`, rows summing to 1.
   */
  probabilities(images: tf.Tensor4D): tf.Tensor2D {
    return this.run("probabilities", images, (pool3) => tf.softmax(tf.matMul(pool3, this.fcWeight)) as tf.Tensor2D);
  }

  /** `features(images)` and `probabilities(images)` from one pass through the network. */
  featuresAndProbabilities(images: tf.Tensor4D): { features: tf.Tensor2D; probabilities: tf.Tensor2D } {
    this.check("featuresAndProbabilities", images);
    return tf.tidy(() => {
      const features = this.pool3("featuresAndProbabilities", images);
      return { features, probabilities: tf.softmax(tf.matMul(features, this.fcWeight)) as tf.Tensor2D };
    });
  }

  /** Frees the weights. Later calls throw. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.convs.values()) {
      c.filter.dispose();
      c.bias.dispose();
    }
    this.fcWeight.dispose();
    this.fcBias.dispose();
  }

  private run(fn: string, images: tf.Tensor4D, head: (pool3: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    this.check(fn, images);
    return tf.tidy(() => head(this.pool3(fn, images)));
  }

  private check(fn: string, images: tf.Tensor4D): void {
    if (this.disposed) throw new Error(`${FN}.${fn}: the network was disposed.`);
    if (!(images instanceof tf.Tensor)) throw new Error(`${FN}.${fn}: images must be a tf.Tensor4D, got ${images === null ? "null" : typeof images}.`);
    if (images.rank !== 4) throw new Error(`${FN}.${fn}: images must be [N, H, W, C], got shape [${images.shape.join(", ")}].`);
    if (images.dtype !== "float32") throw new Error(`${FN}.${fn}: images must be float32 in [0, 1], got ${images.dtype}.`);
    const [n, h, w, c] = images.shape;
    if (c !== 1 && c !== 3) throw new Error(`${FN}.${fn}: images must have 1 or 3 channels, got shape [${images.shape.join(", ")}].`);
    if (n === 0 || h === 0 || w === 0) throw new Error(`${FN}.${fn}: images must not be empty, got shape [${images.shape.join(", ")}].`);
  }

  /** `[N, H, W, C]` in [0, 1] -> pool3 `[N, 2048]`. Each stage runs in its own tidy so that only stage outputs live. */
  private pool3(fn: string, images: tf.Tensor4D): tf.Tensor2D {
    const [, h, w, c] = images.shape;
    let x = tf.tidy(() => {
      let y: tf.Tensor4D = images;
      if (h !== INCEPTION_SIZE) y = resizeAxis(y, 1, INCEPTION_SIZE);
      if (w !== INCEPTION_SIZE) y = resizeAxis(y, 2, INCEPTION_SIZE);
      if (c === 1) y = tf.tile(y, [1, 1, 1, 3]);
      return tf.sub(tf.mul(y, 2), 1) as tf.Tensor4D;
    });
    const stages: ((t: tf.Tensor4D) => tf.Tensor4D)[] = [
      (t) => this.conv("Conv2d_1a_3x3", t),
      (t) => this.conv("Conv2d_2a_3x3", t),
      (t) => this.conv("Conv2d_2b_3x3", t),
      (t) => tf.maxPool(t, 3, 2, "valid"),
      (t) => this.conv("Conv2d_3b_1x1", t),
      (t) => this.conv("Conv2d_4a_3x3", t),
      (t) => tf.maxPool(t, 3, 2, "valid"),
      (t) => this.inceptionA("Mixed_5b", t),
      (t) => this.inceptionA("Mixed_5c", t),
      (t) => this.inceptionA("Mixed_5d", t),
      (t) => this.inceptionB("Mixed_6a", t),
      (t) => this.inceptionC("Mixed_6b", t),
      (t) => this.inceptionC("Mixed_6c", t),
      (t) => this.inceptionC("Mixed_6d", t),
      (t) => this.inceptionC("Mixed_6e", t),
      (t) => this.inceptionD("Mixed_7a", t),
      (t) => this.inceptionE("Mixed_7b", t, "avg"),
      (t) => this.inceptionE("Mixed_7c", t, "max"),
    ];
    try {
      for (const stage of stages) {
        const next = tf.tidy(() => stage(x));
        x.dispose();
        x = next;
      }
      return tf.mean(x, [1, 2]) as tf.Tensor2D;
    } catch (error) {
      throw new Error(`${FN}.${fn}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      x.dispose();
    }
  }

  private conv(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const c = this.convs.get(name) as FoldedConv;
    return tf.fused.conv2d({ x, filter: c.filter, strides: c.spec.stride, pad: c.spec.pad, bias: c.bias, activation: "relu" });
  }

  private chain(names: string[], x: tf.Tensor4D): tf.Tensor4D {
    return names.reduce((t, n) => this.conv(n, t), x);
  }

  private inceptionA(p: string, x: tf.Tensor4D): tf.Tensor4D {
    return tf.concat(
      [
        this.conv(`${p}.branch1x1`, x),
        this.chain([`${p}.branch5x5_1`, `${p}.branch5x5_2`], x),
        this.chain([`${p}.branch3x3dbl_1`, `${p}.branch3x3dbl_2`, `${p}.branch3x3dbl_3`], x),
        this.conv(`${p}.branch_pool`, tf.avgPool(x, 3, 1, "same")), // count_include_pad=False
      ],
      3,
    );
  }

  private inceptionB(p: string, x: tf.Tensor4D): tf.Tensor4D {
    return tf.concat(
      [
        this.conv(`${p}.branch3x3`, x),
        this.chain([`${p}.branch3x3dbl_1`, `${p}.branch3x3dbl_2`, `${p}.branch3x3dbl_3`], x),
        tf.maxPool(x, 3, 2, "valid"),
      ],
      3,
    );
  }

  private inceptionC(p: string, x: tf.Tensor4D): tf.Tensor4D {
    return tf.concat(
      [
        this.conv(`${p}.branch1x1`, x),
        this.chain([`${p}.branch7x7_1`, `${p}.branch7x7_2`, `${p}.branch7x7_3`], x),
        this.chain([`${p}.branch7x7dbl_1`, `${p}.branch7x7dbl_2`, `${p}.branch7x7dbl_3`, `${p}.branch7x7dbl_4`, `${p}.branch7x7dbl_5`], x),
        this.conv(`${p}.branch_pool`, tf.avgPool(x, 3, 1, "same")), // count_include_pad=False
      ],
      3,
    );
  }

  private inceptionD(p: string, x: tf.Tensor4D): tf.Tensor4D {
    return tf.concat(
      [
        this.chain([`${p}.branch3x3_1`, `${p}.branch3x3_2`], x),
        this.chain([`${p}.branch7x7x3_1`, `${p}.branch7x7x3_2`, `${p}.branch7x7x3_3`, `${p}.branch7x7x3_4`], x),
        tf.maxPool(x, 3, 2, "valid"),
      ],
      3,
    );
  }

  private inceptionE(p: string, x: tf.Tensor4D, pool: "avg" | "max"): tf.Tensor4D {
    const b3 = this.conv(`${p}.branch3x3_1`, x);
    const bd = this.chain([`${p}.branch3x3dbl_1`, `${p}.branch3x3dbl_2`], x);
    // FIDInceptionE_1 (Mixed_7b): average pool without padded zeros; FIDInceptionE_2 (Mixed_7c): max pool.
    const pooled = pool === "avg" ? tf.avgPool(x, 3, 1, "same") : tf.maxPool(x, 3, 1, "same");
    return tf.concat(
      [
        this.conv(`${p}.branch1x1`, x),
        this.conv(`${p}.branch3x3_2a`, b3),
        this.conv(`${p}.branch3x3_2b`, b3),
        this.conv(`${p}.branch3x3dbl_3a`, bd),
        this.conv(`${p}.branch3x3dbl_3b`, bd),
        this.conv(`${p}.branch_pool`, pooled),
      ],
      3,
    );
  }
}

/**
 * Bilinear resampling along one axis with PyTorch's `F.interpolate(mode="bilinear", align_corners=False)` rule
 * (no antialiasing): output index `d` reads the input at `src = max(0, (d + 0.5) * in / out - 0.5)`,
 *
 *     y[d] = (1 - l) x[i0] + l x[i1],   i0 = floor(src),  i1 = min(i0 + 1, in - 1),  l = src - i0.
 *
 * Resizing both axes this way is F.interpolate's 2-D bilinear resize (it is separable). The coordinates and weights
 * are computed in float64: tf.image.resizeBilinear(x, size, false, true) follows the same rule, but the wasm backend
 * computes the source coordinates in float32, which for a non-integer ratio such as 320 -> 299 moves samples by about
 * 1e-5 pixel and changed the pool3 features by 2e-4 relative in our reference test.
 *
 * @param x `[N, H, W, C]`; `axis` 1 resizes H, 2 resizes W.
 */
export function resizeAxis(x: tf.Tensor4D, axis: 1 | 2, outSize: number): tf.Tensor4D {
  const inSize = x.shape[axis];
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(0, (d + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(src), inSize - 1);
    const l = src - lo;
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w0[d] = 1 - l;
    w1[d] = l;
  }
  const shape: [number, number, number, number] = axis === 1 ? [1, outSize, 1, 1] : [1, 1, outSize, 1];
  return tf.tidy(() =>
    tf.add(
      tf.mul(tf.gather(x, tf.tensor1d(i0, "int32"), axis), tf.tensor4d(w0, shape)),
      tf.mul(tf.gather(x, tf.tensor1d(i1, "int32"), axis), tf.tensor4d(w1, shape)),
    ),
  );
}

/**
 * Folds eval-mode BatchNorm into the preceding bias-free convolution, in float64:
 * `s = gamma / sqrt(var + 0.001)`, filter `[kh, kw, in, out] = W[out, in, kh, kw] * s[out]`, bias `beta - mean * s`.
 */
export function foldBatchNorm(
  spec: InceptionConvSpec,
  weight: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
): { filter: Float32Array; bias: Float32Array } {
  const { inChannels: cin, outChannels: cout } = spec;
  const [kh, kw] = spec.kernel;
  const filter = new Float32Array(kh * kw * cin * cout);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = (gamma[o] as number) / Math.sqrt((variance[o] as number) + BN_EPS);
    bias[o] = (beta[o] as number) - (mean[o] as number) * s;
    for (let i = 0; i < cin; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          filter[((y * kw + x) * cin + i) * cout + o] = (weight[((o * cin + i) * kh + y) * kw + x] as number) * s;
        }
      }
    }
  }
  return { filter, bias };
}
