import * as tf from "@tensorflow/tfjs-core";
import { edmScalings } from "./precondition";
import type { ApplyOptions, ModelConfig, ScoreModel, UNetConfig } from "./types";
import { attentionBlock, createAttentionBlock, type AttentionBlock } from "./unet/attention-block";
import { resolveUNetConfig } from "./unet/config";
import { groupNorm, silu } from "./unet/layers";
import { applyConv, createParams, type Lin, type Params } from "./unet/params";
import { createResample, downsample, upsample } from "./unet/resample";
import { createResBlock, resBlock, type ResBlock } from "./unet/res-block";
import { createTimeEmbedding, timeEmbedding } from "./unet/time-embedding";

export type { UNetConfig } from "./types";
export { unetPresets, resolveUNetConfig } from "./unet/config";
export { groupNorm, groupsFor, silu, upsampleNearest2x } from "./unet/layers";
export { timestepEmbedding } from "./unet/time-embedding";

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

const usedPrefixes = new Map<string, number>();

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
 * The blocks live in `unet/` (`timeEmbedding`, `resBlock`, `attentionBlock`, `downsample`, `upsample`), each beside the
 * function that makes its weights. GroupNorm uses up to 32 groups of at least two channels each ({@link groupsFor}),
 * eps 1e-5. Weights are drawn He-normal (std sqrt(2 / fan_in)) from `seed`, one stream per variable in creation
 * order, biases zero, and (with `zeroInit`, the default) the last conv of each residual block, each attention
 * projection and the output conv start at zero, so the initial output is zero.
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

  // 1. Build the weights in the order of the forward pass (so names and seed streams are stable).
  const params = createParams({ seed, zeroInit, prefix });
  const { temb, convIn, down, mid, up, normOut, convOut } = buildWeights(cfg, params);
  const named = params.named;
  const variables = Object.values(named);

  // 2. The forward pass. Dropout masks are seeded by the pass's seed and the block's position.
  const forward = (x: tf.Tensor4D, t: tf.Tensor1D, training: boolean, dropSeed: number): tf.Tensor4D => {
    let dropCount = 0;
    const dropout = training && cfg.dropout > 0
      ? (y: tf.Tensor4D) => tf.dropout(y, cfg.dropout, undefined, dropSeed * 1009 + dropCount++) as tf.Tensor4D
      : (y: tf.Tensor4D) => y;
    const emb = timeEmbedding(t, temb, cfg.ch, cfg.timeScale);
    let h = applyConv(cfg.input === "log" ? tf.log(x) : x, convIn);
    const hs: tf.Tensor4D[] = [h];
    for (const level of down) {
      level.res.forEach((r, j) => {
        h = resBlock(h, r, emb, dropout);
        const a = level.attn[j];
        if (a) h = attentionBlock(h, a);
        hs.push(h);
      });
      if (level.downsample) {
        h = downsample(h, level.downsample);
        hs.push(h);
      }
    }
    h = resBlock(attentionBlock(resBlock(h, mid.res0, emb, dropout), mid.attn), mid.res1, emb, dropout);
    for (const level of up) {
      level.res.forEach((r, j) => {
        h = resBlock(tf.concat([h, hs.pop() as tf.Tensor4D], 3), r, emb, dropout);
        const a = level.attn[j];
        if (a) h = attentionBlock(h, a);
      });
      if (level.upsample) h = upsample(h, level.upsample);
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

type DownLevel = { res: ResBlock[]; attn: (AttentionBlock | undefined)[]; downsample?: Lin };
type UpLevel = { res: ResBlock[]; attn: (AttentionBlock | undefined)[]; upsample?: Lin };

/** Makes every weight of a U-Net through `params`, in the order of the forward pass. */
function buildWeights(cfg: ReturnType<typeof resolveUNetConfig>, params: Params) {
  const [height] = cfg.imageSize;
  const levels = cfg.chMult.length;
  const tembChannels = 4 * cfg.ch;
  const res = (name: string, cin: number, cout: number) => createResBlock(params, name, cin, cout, tembChannels);
  const temb = createTimeEmbedding(params, cfg.ch);
  const convIn = params.conv("conv_in", 3, cfg.channels, cfg.ch);
  const skipChannels: number[] = [cfg.ch];
  let cur = cfg.ch;
  const down: DownLevel[] = [];
  for (let i = 0; i < levels; i++) {
    const out = cfg.ch * (cfg.chMult[i] as number);
    const withAttn = cfg.attnResolutions.includes(height / 2 ** i);
    const level: (typeof down)[number] = { res: [], attn: [] };
    for (let j = 0; j < cfg.numResBlocks; j++) {
      level.res.push(res(`down.${i}.res.${j}`, cur, out));
      cur = out;
      level.attn.push(withAttn ? createAttentionBlock(params, `down.${i}.attn.${j}`, cur) : undefined);
      skipChannels.push(cur);
    }
    if (i !== levels - 1) {
      level.downsample = createResample(params, `down.${i}.downsample`, cur);
      skipChannels.push(cur);
    }
    down.push(level);
  }
  const mid = { res0: res("mid.res.0", cur, cur), attn: createAttentionBlock(params, "mid.attn.0", cur), res1: res("mid.res.1", cur, cur) };
  const up: UpLevel[] = [];
  for (let i = levels - 1; i >= 0; i--) {
    const out = cfg.ch * (cfg.chMult[i] as number);
    const withAttn = cfg.attnResolutions.includes(height / 2 ** i);
    const level: (typeof up)[number] = { res: [], attn: [] };
    for (let j = 0; j < cfg.numResBlocks + 1; j++) {
      const skip = skipChannels.pop() as number;
      level.res.push(res(`up.${i}.res.${j}`, cur + skip, out));
      cur = out;
      level.attn.push(withAttn ? createAttentionBlock(params, `up.${i}.attn.${j}`, cur) : undefined);
    }
    if (i !== 0) level.upsample = createResample(params, `up.${i}.upsample`, cur);
    up.push(level);
  }
  const normOut = params.norm("norm_out", cur);
  const convOut = params.conv("conv_out", 3, cur, cfg.channels, true);
  return { temb, convIn, down, mid, up, normOut, convOut };
}

/**
 * The shapes of the weights `createUNet(config)` would make, by name, in creation order, without allocating any:
 * what `loadCheckpoint` compares with a file's tensor headers before it builds a network from a stored config.
 */
export function unetVariableShapes(config: UNetConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const placeholder = (name: string, shape: number[]) => {
    shapes[name] = shape;
    return {} as tf.Variable; // never applied: only the shapes are read
  };
  const lin = (name: string, shape: number[], out: number) => ({ w: placeholder(`${name}.w`, shape), b: placeholder(`${name}.b`, [out]) });
  const params: Params = {
    named: {},
    norm: (name, c) => ({ gamma: placeholder(`${name}.gamma`, [c]), beta: placeholder(`${name}.beta`, [c]) }),
    conv: (name, k, cin, cout) => lin(name, [k, k, cin, cout], cout),
    dense: (name, cin, cout) => lin(name, [cin, cout], cout),
  };
  buildWeights(resolveUNetConfig(config), params);
  return shapes;
}
