import type * as tf from "@tensorflow/tfjs-core";

/**
 * What a network's output means (docs/method.md, section 2):
 * - `"stein"`: the Stein score s(x, t) = grad_x log p_t(x);
 * - `"hyvarinen"`: the Hyvarinen score h(x, t) = x * grad_x log p_t(x);
 * - `"noise"`: a noise prediction in log space, z_hat, the natural reading of M-DSM (docs/method.md, section 5): with
 *   v(t) = sde.logVariance(t), log x_t = log x_0 + m(t) + sqrt(v(t)) Z and the network predicts z_hat ~ Z, so
 *   h = -1 - z_hat / sqrt(v(t));
 * - `"denoiser"`: D(y; sigma) ~ E[y_0 | y_t = y], the clean state in the process's denoising coordinates y at noise
 *   level sigma (`noiseCoordinates` of `@dale/sde`: y = log x for GBM, so the network predicts the clean log-image).
 *   Such a model's `apply(y, sigma)` takes y and one noise level per sample, not x and t; the adapters convert.
 *   Tweedie's formula gives the scores (docs/method.md, section 9): grad_y log p_t(y) = (D - y) / sigma^2, and for GBM
 *   the Hyvarinen score is h(x) = (D(log x; sigma) - log x) / sigma^2 - 1.
 */
export type OutputKind = "stein" | "hyvarinen" | "noise" | "denoiser";

/** The constructor config of `createUNet`. */
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
   * EDM's preconditioning (Karras et al. 2022, Table 1; `edmScalings`), required with `output: "denoiser"` and
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

/** The config of a model wrapped by `fromFunction`: it cannot be rebuilt from the config alone. */
export interface FunctionModelConfig {
  kind: "function";
  output: OutputKind;
  /** A free-form name, stored in checkpoints. */
  name?: string;
}

/** The constructor config of a model, stored with it so that a checkpoint can rebuild it. */
export type ModelConfig = ({ kind: "unet" } & Required<UNetConfig>) | FunctionModelConfig;

/** Options of one forward pass. */
export interface ApplyOptions {
  /** Training mode: dropout is active (when the model has any). Default false. */
  training?: boolean;
  /** Seed of the dropout masks in training mode. Default 0. */
  seed?: number;
}

/**
 * A score network: `apply(x, t)` with one time per sample (`t` float32 `[batch]`), returning a tensor of x's shape
 * whose meaning `output` declares. `variables` are its trainable weights; `namedVariables` (when present) gives them
 * stable names, which checkpoints use.
 */
export interface ScoreModel {
  apply(x: tf.Tensor, t: tf.Tensor, options?: ApplyOptions): tf.Tensor;
  readonly output: OutputKind;
  readonly variables: tf.Variable[];
  readonly config: ModelConfig;
  namedVariables?(): Record<string, tf.Variable>;
}

/** A score network as `@dale/losses` sees it (declared once, in `@dale/sde`). */
export type { BatchScoreFn } from "@dale/sde";
