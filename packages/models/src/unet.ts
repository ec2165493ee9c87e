import * as tf from "@tensorflow/tfjs-core";
import { normalArray } from "@dale/sde";
import { edmScalings, type ApplyOptions, type ModelConfig, type OutputKind, type ScoreModel } from "./score-model";

/** The constructor config of {@link createUNet}. */
export interface UNetConfig {
  /** `[height, width]` of the images. Both must divide by 2^(chMult.length - 1). */
  imageSize: readonly [number, number] | number[];
  /** Image channels (1 for MNIST, 3 for CIFAR-10); the output has as many. */
  channels: number;
  /** Base width: the first level has `ch` channels, level i has `ch * chMult[i]`; the time embedding has 4 * ch. */
  ch: number;
  /** Channel multiplier per resolution level; one level per entry, halving the resolution between levels. */
  chMult: readonly number[] | number[];
  /** Residual blocks per level on the way down (the way up has one more, as in DDPM). */
  numResBlocks: number;
  /** Spatial sizes (the feature map's height) at which self-attention follows each residual block. */
  attnResolutions: readonly number[] | number[];
  /** Dropout rate inside residual blocks, active only with `apply(x, t, { training: true })`. Default 0. */
  dropout?: number;
  /** What the network predicts. Default "noise". */
  output?: OutputKind;
  /** The time embedding sees t * timeScale (DDPM's step index scale). Default 1000. */
  timeScale?: number;
  /**
   * What the first convolution sees: `"x"` the state itself (default), or `"log"` its logarithm, for GBM processes
   * whose log-noise is large (`geometricSchedule`): there x_t spans many orders of magnitude, log x_t a few units.
   */
  input?: "x" | "log";
  /**
   * EDM's preconditioning (Karras et al. 2022, Table 1; {@link edmScalings}), required with `output: "denoiser"` and
   * refused otherwise. The model's `apply(y, sigma)` then takes the process's denoising coordinates y (log x for GBM)
   * and one noise level per sample, and returns
   *
   *     D(y; sigma) = mean + c_skip (y - mean) + c_out F(c_in (y - mean), c_noise)
   *
   * where F is the U-Net, its time embedding fed c_noise = ln(sigma) / 4 (times `timeScale`). `sigmaData` is the std
   * and `mean` the mean of the training data's y_0 (measured by the trainer and stored with the config), so the
   * network's input and target have unit variance at every noise level.
   */
  precondition?: { sigmaData: number; mean: number } | null;
}

/** A U-Net score model: a {@link ScoreModel} with named variables and its full config. */
export interface UNet extends ScoreModel {
  readonly config: Extract<ModelConfig, { kind: "unet" }>;
  namedVariables(): Record<string, tf.Variable>;
  /** Frees every variable. */
  dispose(): void;
}

/** Options of {@link createUNet}. */
export interface CreateUNetOptions {
  /** Seed of the initial weights. Default 0. */
  seed?: number;
  /**
   * Zero-initialise the last convolution of each residual block, the attention output projection and the output
   * convolution, as DDPM does (the network's initial output is then exactly zero). Default true; false draws them
   * like the others (useful in tests).
   */
  zeroInit?: boolean;
  /** Prefix of the tfjs variable names (made unique per process). Default "unet". */
  name?: string;
}

/** Ready-made configs (the output defaults to "noise"). */
export const unetPresets = {
  /** 28x28x1, 28 -> 14 -> 7, 1,112,801 parameters. */
  mnistSmall: { imageSize: [28, 28], channels: 1, ch: 32, chMult: [1, 2, 2], numResBlocks: 1, attnResolutions: [7], dropout: 0, output: "noise" },
  /** 28x28x1, 28 -> 14 -> 7, 6,469,889 parameters. */
  mnist: { imageSize: [28, 28], channels: 1, ch: 64, chMult: [1, 2, 2], numResBlocks: 2, attnResolutions: [7], dropout: 0.1, output: "noise" },
  /**
   * 32x32x3, 32 -> 16 -> 8 -> 4, 1,525,411 parameters: mnistSmall's widths with a fourth level. Sized for a
   * checkpoint that ships (3.1 MB in F16) and samples on a CPU: `dale-sample --n 100` (100 steps) took 332 to 338 s
   * on one wasm thread (BENCHMARKS.md, checkpoints/cifar10-gbm-cpu).
   */
  cifar10Small: { imageSize: [32, 32], channels: 3, ch: 32, chMult: [1, 2, 2, 2], numResBlocks: 1, attnResolutions: [8], dropout: 0, output: "noise" },
  /** 32x32x3, 32 -> 16 -> 8 -> 4, DDPM's CIFAR-10 network (35,746,307 parameters; DDPM reports 35.7M). */
  cifar10: { imageSize: [32, 32], channels: 3, ch: 128, chMult: [1, 2, 2, 2], numResBlocks: 2, attnResolutions: [16], dropout: 0.1, output: "noise" },
  /** For tests: 28x28x1, ch 8, two levels, no attention outside the middle block. */
  tiny: { imageSize: [28, 28], channels: 1, ch: 8, chMult: [1, 2], numResBlocks: 1, attnResolutions: [], dropout: 0, output: "noise" },
} as const satisfies Record<string, UNetConfig>;

const usedPrefixes = new Map<string, number>();

/**
 * Number of groups of GroupNorm over c channels: the largest divisor of c that is at most 32 and leaves at least two
 * channels per group (32 for c >= 64, as in DDPM). One channel per group would be instance norm, which removes the
 * per-channel shift that the time embedding adds in each residual block, so the output would not depend on t.
 */
export function groupsFor(c: number): number {
  for (let g = Math.min(32, Math.floor(c / 2)); g > 1; g--) if (c % g === 0) return g;
  return 1;
}

/** Checks a config and fills its defaults; errors name the field and what was expected. */
export function resolveUNetConfig(config: UNetConfig): Extract<ModelConfig, { kind: "unet" }> {
  const fn = "createUNet";
  const posInt = (v: unknown, name: string) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${String(v)}.`);
  };
  if (!Array.isArray(config.imageSize) || config.imageSize.length !== 2) {
    throw new Error(`${fn}: imageSize must be [height, width], got ${JSON.stringify(config.imageSize)}.`);
  }
  const [h, w] = config.imageSize as [number, number];
  posInt(h, "imageSize[0]");
  posInt(w, "imageSize[1]");
  posInt(config.channels, "channels");
  posInt(config.ch, "ch");
  posInt(config.numResBlocks, "numResBlocks");
  if (!Array.isArray(config.chMult) || config.chMult.length < 1) throw new Error(`${fn}: chMult must be a non-empty array of positive integers.`);
  config.chMult.forEach((m, i) => posInt(m, `chMult[${i}]`));
  const levels = config.chMult.length;
  const factor = 2 ** (levels - 1);
  if (h % factor !== 0 || w % factor !== 0) {
    throw new Error(
      `${fn}: imageSize [${h}, ${w}] must divide by 2^(levels - 1) = ${factor} for chMult of ${levels} levels ` +
        `(each level but the last halves the resolution); use fewer levels or pad the images.`,
    );
  }
  const sizes = config.chMult.map((_, i) => h / 2 ** i);
  for (const r of config.attnResolutions) {
    if (!sizes.includes(r)) throw new Error(`${fn}: attnResolutions entry ${r} is not a level's height; the levels have heights [${sizes}].`);
  }
  const dropout = config.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`${fn}: dropout must be in [0, 1), got ${dropout}.`);
  const output = config.output ?? "noise";
  if (output !== "stein" && output !== "hyvarinen" && output !== "noise" && output !== "denoiser") {
    throw new Error(`${fn}: output must be "stein", "hyvarinen", "noise" or "denoiser", got ${String(output)}.`);
  }
  const timeScale = config.timeScale ?? 1000;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`${fn}: timeScale must be positive, got ${timeScale}.`);
  const input = config.input ?? "x";
  if (input !== "x" && input !== "log") throw new Error(`${fn}: input must be "x" or "log", got ${String(input)}.`);
  const precondition = config.precondition ?? null;
  if (output === "denoiser") {
    if (precondition === null || typeof precondition !== "object") {
      throw new Error(`${fn}: output "denoiser" needs precondition { sigmaData, mean } (the std and mean of the training data's y_0).`);
    }
    if (!(precondition.sigmaData > 0) || !Number.isFinite(precondition.sigmaData)) throw new Error(`${fn}: precondition.sigmaData must be a positive number, got ${String(precondition.sigmaData)}.`);
    if (!Number.isFinite(precondition.mean)) throw new Error(`${fn}: precondition.mean must be a finite number, got ${String(precondition.mean)}.`);
    if (input !== "x") throw new Error(`${fn}: a preconditioned U-Net sees c_in (y - mean); leave input at "x" (y is already log x for GBM).`);
  } else if (precondition !== null) {
    throw new Error(`${fn}: precondition applies to output "denoiser" only, got output "${output}".`);
  }
  if (config.ch % 2 !== 0) throw new Error(`${fn}: ch must be even (the sinusoidal embedding has ch / 2 frequencies), got ${config.ch}.`);
  return {
    kind: "unet",
    imageSize: [h, w],
    channels: config.channels,
    ch: config.ch,
    chMult: [...config.chMult],
    numResBlocks: config.numResBlocks,
    attnResolutions: [...config.attnResolutions],
    dropout,
    output,
    timeScale,
    input,
    precondition: precondition === null ? null : { sigmaData: precondition.sigmaData, mean: precondition.mean },
  };
}

/** Weights of one GroupNorm. */
interface Norm { gamma: tf.Variable; beta: tf.Variable }
/** Weights of one convolution (`w`: `[kh, kw, in, out]`) or dense layer (`w`: `[in, out]`). */
interface Lin { w: tf.Variable; b: tf.Variable }
interface ResBlock { norm1: Norm; conv1: Lin; temb: Lin; norm2: Norm; conv2: Lin; skip?: Lin }
interface AttnBlock { norm: Norm; q: Lin; k: Lin; v: Lin; proj: Lin }

/**
 * A time-conditioned U-Net in the DDPM family (Ho et al. 2020, Appendix B; the `diffusion_tf` model), built from plain
 * tfjs-core ops on `tf.variable` weights, NHWC:
 *
 *     temb = dense(silu(dense(sinusoidal(t * timeScale, ch))))                    [B, 4 ch]
 *     h = conv3x3(x), or conv3x3(log x) with input "log"
 *     res(h) = skip(h) + conv2(dropout(silu(gn(conv1(silu(gn(h))) + dense(silu(temb))))))
 *     attn(h) = h + proj(softmax(q k^T / sqrt(c)) v),  q, k, v = 1x1(gn(h))     (single head)
 *     down: [res (+ attn)] x numResBlocks per level, then a stride-2 conv3x3 ('same') except at the last level
 *     mid: res, attn, res
 *     up: [res(concat(h, skip)) (+ attn)] x (numResBlocks + 1) per level, then nearest x2 and conv3x3 except at level 0
 *     out = conv3x3(silu(gn(h))) -> `channels`
 *
 * GroupNorm uses up to 32 groups of at least two channels each ({@link groupsFor}), eps 1e-5. Weights are drawn He-normal
 * (std sqrt(2 / fan_in)) from `seed`, biases zero, and (with `zeroInit`, the default) the last conv of each residual
 * block, each attention projection and the output conv start at zero, so the initial output is zero.
 *
 * @param config see {@link UNetConfig} and {@link unetPresets}
 * @example
 * const model = createUNet(unetPresets.tiny, { seed: 0 });
 * const out = model.apply(tf.ones([2, 28, 28, 1]), tf.tensor1d([0.1, 0.9])); // [2, 28, 28, 1]
 */
export function createUNet(config: UNetConfig, options: CreateUNetOptions = {}): UNet {
  const cfg = resolveUNetConfig(config);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`createUNet: seed must be an integer, got ${seed}.`);
  const zeroInit = options.zeroInit ?? true;
  const base = options.name ?? "unet";
  const count = usedPrefixes.get(base) ?? 0;
  usedPrefixes.set(base, count + 1);
  let prefix = count === 0 ? base : `${base}_${count}`;
  while (Object.keys(tf.engine().registeredVariables).some((n) => n.startsWith(`${prefix}/`))) prefix = `${prefix}_`;

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
  const norm = (name: string, c: number): Norm => ({ gamma: make(`${name}.gamma`, [c], "ones"), beta: make(`${name}.beta`, [c], "zeros") });
  const conv = (name: string, k: number, cin: number, cout: number, zero = false): Lin => ({
    w: make(`${name}.w`, [k, k, cin, cout], zero && zeroInit ? "zeros" : "he", k * k * cin),
    b: make(`${name}.b`, [cout], "zeros"),
  });
  const dense = (name: string, cin: number, cout: number, zero = false): Lin => ({
    w: make(`${name}.w`, [cin, cout], zero && zeroInit ? "zeros" : "he", cin),
    b: make(`${name}.b`, [cout], "zeros"),
  });
  const temb = 4 * cfg.ch;
  const res = (name: string, cin: number, cout: number): ResBlock => ({
    norm1: norm(`${name}.norm1`, cin),
    conv1: conv(`${name}.conv1`, 3, cin, cout),
    temb: dense(`${name}.temb`, temb, cout),
    norm2: norm(`${name}.norm2`, cout),
    conv2: conv(`${name}.conv2`, 3, cout, cout, true),
    ...(cin !== cout ? { skip: conv(`${name}.skip`, 1, cin, cout) } : {}),
  });
  const attn = (name: string, c: number): AttnBlock => ({
    norm: norm(`${name}.norm`, c),
    q: dense(`${name}.q`, c, c),
    k: dense(`${name}.k`, c, c),
    v: dense(`${name}.v`, c, c),
    proj: dense(`${name}.proj`, c, c, true),
  });

  // 1. Build the weights in the order of the forward pass (so names and seeds streams are stable).
  const [height] = cfg.imageSize;
  const levels = cfg.chMult.length;
  const tembMlp = [dense("temb.dense0", cfg.ch, temb), dense("temb.dense1", temb, temb)] as const;
  const convIn = conv("conv_in", 3, cfg.channels, cfg.ch);
  const skipChannels: number[] = [cfg.ch];
  let cur = cfg.ch;
  const down: { res: ResBlock[]; attn: (AttnBlock | undefined)[]; downsample?: Lin }[] = [];
  for (let i = 0; i < levels; i++) {
    const out = cfg.ch * (cfg.chMult[i] as number);
    const withAttn = cfg.attnResolutions.includes(height / 2 ** i);
    const level: (typeof down)[number] = { res: [], attn: [] };
    for (let j = 0; j < cfg.numResBlocks; j++) {
      level.res.push(res(`down.${i}.res.${j}`, cur, out));
      cur = out;
      level.attn.push(withAttn ? attn(`down.${i}.attn.${j}`, cur) : undefined);
      skipChannels.push(cur);
    }
    if (i !== levels - 1) {
      level.downsample = conv(`down.${i}.downsample`, 3, cur, cur);
      skipChannels.push(cur);
    }
    down.push(level);
  }
  const mid = { res0: res("mid.res.0", cur, cur), attn: attn("mid.attn.0", cur), res1: res("mid.res.1", cur, cur) };
  const up: { i: number; res: ResBlock[]; attn: (AttnBlock | undefined)[]; upsample?: Lin }[] = [];
  for (let i = levels - 1; i >= 0; i--) {
    const out = cfg.ch * (cfg.chMult[i] as number);
    const withAttn = cfg.attnResolutions.includes(height / 2 ** i);
    const level: (typeof up)[number] = { i, res: [], attn: [] };
    for (let j = 0; j < cfg.numResBlocks + 1; j++) {
      const skip = skipChannels.pop() as number;
      level.res.push(res(`up.${i}.res.${j}`, cur + skip, out));
      cur = out;
      level.attn.push(withAttn ? attn(`up.${i}.attn.${j}`, cur) : undefined);
    }
    if (i !== 0) level.upsample = conv(`up.${i}.upsample`, 3, cur, cur);
    up.push(level);
  }
  const normOut = norm("norm_out", cur);
  const convOut = conv("conv_out", 3, cur, cfg.channels, true);
  const variables = Object.values(named);

  // 2. The forward pass.
  const applyConv = (x: tf.Tensor4D, p: Lin, strides: 1 | 2 = 1): tf.Tensor4D =>
    tf.add(tf.conv2d(x, p.w as tf.Tensor4D, strides, "same"), p.b);
  const applyDense = (x: tf.Tensor2D, p: Lin): tf.Tensor2D => tf.add(tf.matMul(x, p.w as tf.Tensor2D), p.b);

  const forward = (x: tf.Tensor4D, t: tf.Tensor1D, training: boolean, dropSeed: number): tf.Tensor4D => {
    const batch = x.shape[0];
    let dropCount = 0;
    const emb = silu(applyDense(silu(applyDense(timestepEmbedding(t, cfg.ch, cfg.timeScale), tembMlp[0])), tembMlp[1]));
    const resBlock = (h: tf.Tensor4D, p: ResBlock): tf.Tensor4D => {
      let y = applyConv(silu(groupNorm(h, p.norm1)), p.conv1);
      y = tf.add(y, tf.reshape(applyDense(emb, p.temb), [batch, 1, 1, -1]));
      y = silu(groupNorm(y, p.norm2));
      if (training && cfg.dropout > 0) y = tf.dropout(y, cfg.dropout, undefined, dropSeed * 1009 + dropCount++) as tf.Tensor4D;
      y = applyConv(y, p.conv2);
      return tf.add(p.skip ? applyConv(h, p.skip) : h, y);
    };
    const attnBlock = (h: tf.Tensor4D, p: AttnBlock): tf.Tensor4D => {
      const [b, hh, ww, c] = h.shape;
      const flat = tf.reshape(groupNorm(h, p.norm), [b * hh * ww, c]) as tf.Tensor2D;
      const q = tf.reshape(applyDense(flat, p.q), [b, hh * ww, c]) as tf.Tensor3D;
      const k = tf.reshape(applyDense(flat, p.k), [b, hh * ww, c]) as tf.Tensor3D;
      const v = tf.reshape(applyDense(flat, p.v), [b, hh * ww, c]) as tf.Tensor3D;
      const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(c)));
      const o = tf.reshape(tf.matMul(weights, v), [b * hh * ww, c]) as tf.Tensor2D;
      return tf.add(h, tf.reshape(applyDense(o, p.proj), [b, hh, ww, c]));
    };
    let h = applyConv(cfg.input === "log" ? tf.log(x) : x, convIn);
    const hs: tf.Tensor4D[] = [h];
    for (const level of down) {
      level.res.forEach((r, j) => {
        h = resBlock(h, r);
        const a = level.attn[j];
        if (a) h = attnBlock(h, a);
        hs.push(h);
      });
      if (level.downsample) {
        h = applyConv(h, level.downsample, 2);
        hs.push(h);
      }
    }
    h = resBlock(attnBlock(resBlock(h, mid.res0), mid.attn), mid.res1);
    for (const level of up) {
      level.res.forEach((r, j) => {
        h = resBlock(tf.concat([h, hs.pop() as tf.Tensor4D], 3), r);
        const a = level.attn[j];
        if (a) h = attnBlock(h, a);
      });
      if (level.upsample) h = applyConv(upsampleNearest2x(h), level.upsample);
    }
    return applyConv(silu(groupNorm(h, normOut)), convOut);
  };

  const model: UNet = {
    output: cfg.output,
    variables,
    config: cfg,
    namedVariables: () => ({ ...named }),
    apply(x: tf.Tensor, t: tf.Tensor, applyOptions: ApplyOptions = {}): tf.Tensor {
      const fn = "unet.apply";
      const [h, w] = cfg.imageSize;
      if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== cfg.channels) {
        throw new Error(`${fn}: x must be [batch, ${h}, ${w}, ${cfg.channels}] (NHWC), got ${x instanceof tf.Tensor ? `[${x.shape}]` : typeof x}.`);
      }
      if (x.dtype !== "float32") throw new Error(`${fn}: x must be float32, got ${x.dtype}.`);
      if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
        throw new Error(`${fn}: t must be [${x.shape[0]}] (one time per sample), got ${t instanceof tf.Tensor ? `[${t.shape}]` : typeof t}.`);
      }
      if (t.dtype !== "float32") throw new Error(`${fn}: t must be float32, got ${t.dtype}.`);
      const training = applyOptions.training ?? false;
      const dropSeed = applyOptions.seed ?? 0;
      const pre = cfg.precondition;
      if (pre === null) return tf.tidy(() => forward(x as tf.Tensor4D, t as tf.Tensor1D, training, dropSeed));
      // A denoiser: x is y, t is sigma (see UNetConfig.precondition).
      return tf.tidy(() => {
        const c = edmScalings(t as tf.Tensor1D, pre.sigmaData);
        const col = (v: tf.Tensor1D) => tf.reshape(v, [-1, 1, 1, 1]);
        const centred = tf.sub(x, pre.mean);
        const f = forward(tf.mul(centred, col(c.cIn)) as tf.Tensor4D, c.cNoise, training, dropSeed);
        return tf.add(tf.add(tf.mul(centred, col(c.cSkip)), tf.mul(f, col(c.cOut))), pre.mean);
      });
    },
    dispose: () => tf.dispose(variables),
  };
  return model;
}

/** SiLU (swish): x * sigmoid(x). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

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

/**
 * GroupNorm (Wu and He 2018) over NHWC: x reshaped to [B, H, W, G, C/G], normalised by its moments over
 * [H, W, C/G] (eps 1e-5), reshaped back and scaled per channel: y = gamma * (x - mean) / sqrt(var + eps) + beta.
 */
export function groupNorm(x: tf.Tensor4D, p: { gamma: tf.Tensor; beta: tf.Tensor }, eps = 1e-5): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const g = groupsFor(c);
    const grouped = tf.reshape(x, [b, h, w, g, c / g]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normed = tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), p.gamma), p.beta) as tf.Tensor4D;
  });
}

/**
 * Nearest-neighbour x2 upsampling ([B, H, W, C] -> [B, 2H, 2W, C]) by concatenation and reshapes of rank <= 4, whose
 * gradients tfjs has on every backend (tile's gradient stops at rank 4; resizeNearestNeighbor's is missing on wasm).
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const cols = tf.reshape(tf.concat([x, x], 3), [b, h, 2 * w * c]); // (w, k, c) -> column 2w + k
    return tf.reshape(tf.concat([cols, cols], 2), [b, 2 * h, 2 * w, c]) as tf.Tensor4D; // (h, k, ...) -> row 2h + k
  });
}
