import * as tf from "@tensorflow/tfjs-core";
import { noiseCoordinates, perSample, scoreDenoiser, type AnySDE, type GBM, type NoiseCoordinates, type ScoreFn, type VESDE, type VPSDE } from "@dale/sde";
import type { UNetConfig } from "./unet";

/**
 * What a network's output means (docs/method.md, section 2):
 * - `"stein"`: the Stein score s(x, t) = grad_x log p_t(x);
 * - `"hyvarinen"`: the Hyvarinen score h(x, t) = x * grad_x log p_t(x);
 * - `"noise"`: a noise prediction in log space, z_hat, the natural reading of M-DSM (docs/method.md, section 5): with
 *   v(t) = sde.logVariance(t), log x_t = log x_0 + m(t) + sqrt(v(t)) Z and the network predicts z_hat ~ Z, so
 *   h = -1 - z_hat / sqrt(v(t));
 * - `"denoiser"`: D(y; sigma) ~ E[y_0 | y_t = y], the clean state in the process's denoising coordinates y at noise
 *   level sigma (`noiseCoordinates` of `@dale/sde`: y = log x for GBM, so the network predicts the clean log-image).
 *   Such a model's `apply(y, sigma)` takes y and one noise level per sample, not x and t; the adapters below convert.
 *   Tweedie's formula gives the scores (docs/method.md, section 9): grad_y log p_t(y) = (D - y) / sigma^2, and for GBM
 *   the Hyvarinen score is h(x) = (D(log x; sigma) - log x) / sigma^2 - 1.
 */
export type OutputKind = "stein" | "hyvarinen" | "noise" | "denoiser";

/** The constructor config of a model, stored with it so that a checkpoint can rebuild it. */
export type ModelConfig = ({ kind: "unet" } & Required<UNetConfig>) | FunctionModelConfig;

/** The config of a model wrapped by {@link fromFunction}: it cannot be rebuilt from the config alone. */
export interface FunctionModelConfig {
  kind: "function";
  output: OutputKind;
  /** A free-form name, stored in checkpoints. */
  name?: string;
}

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

/**
 * A score network as `@dale/losses` sees it (structurally its `BatchScoreFn`): `(x, t[batch])`, returning the Stein
 * score unless tagged `kind: "hyvarinen"`.
 */
export type BatchScoreFn = ((x: tf.Tensor, t: tf.Tensor) => tf.Tensor) & { readonly kind?: "stein" | "hyvarinen" };

/** The names of a model's variables: `namedVariables()` when it has one, else each variable's own name. */
export function modelVariables(model: ScoreModel): Record<string, tf.Variable> {
  if (model.namedVariables) return model.namedVariables();
  const out: Record<string, tf.Variable> = {};
  for (const v of model.variables) {
    if (v.name in out) throw new Error(`modelVariables: two variables are named "${v.name}".`);
    out[v.name] = v;
  }
  return out;
}

/**
 * sqrt(v(t)) per sample, shaped `[batch, 1, ..., 1]` to broadcast against x (v(t) = sde.logVariance(t)).
 * Reads t (a `[batch]` tensor) back to JS, since v is a JS function of t.
 */
function logStd(sde: GBM, t: tf.Tensor, x: tf.Tensor, fn: string): tf.Tensor {
  const s = Float32Array.from(t.dataSync(), (ti) => {
    const v = sde.logVariance(ti);
    if (!(v > 0)) throw new Error(`${fn}: a "noise" model needs v(t) = sde.logVariance(t) > 0, got v(${ti}) = ${v}.`);
    return Math.sqrt(v);
  });
  return perSample(s, x, fn);
}

function checkInputs(x: tf.Tensor, t: tf.Tensor, fn: string): void {
  if (!(x instanceof tf.Tensor) || x.rank < 1) throw new Error(`${fn}: x must be a tensor [batch, ...].`);
  if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
    throw new Error(`${fn}: t must have shape [${x.shape[0]}] (one time per sample), got ${t instanceof tf.Tensor ? `[${t.shape}]` : typeof t}.`);
  }
}

/** Runs the model and checks that it returned a tensor of x's shape. */
function run(model: ScoreModel, x: tf.Tensor, t: tf.Tensor, fn: string): tf.Tensor {
  const out = model.apply(x, t);
  if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, x.shape)) {
    throw new Error(`${fn}: model.apply(x, t) must return a tensor of x's shape [${x.shape}], got ${out instanceof tf.Tensor ? `[${out.shape}]` : typeof out}.`);
  }
  return out;
}

/**
 * The Hyvarinen score of a "noise" model (docs/method.md, section 5): h = -1 - z_hat / sqrt(v(t)).
 * Exposed for tests and custom losses; `t` is `[batch]`.
 */
export function noiseToHyvarinen(zHat: tf.Tensor, t: tf.Tensor, sde: GBM): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.neg(tf.div(zHat, logStd(sde, t, zHat, "noiseToHyvarinen"))), 1));
}

/**
 * The inverse of {@link noiseToHyvarinen}: z = -sqrt(v(t)) (h + 1), the noise target of a Hyvarinen score.
 */
export function hyvarinenToNoise(h: tf.Tensor, t: tf.Tensor, sde: GBM): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.mul(logStd(sde, t, h, "hyvarinenToNoise"), tf.add(h, 1))));
}

/** One noise level per sample, `[batch]`, for a denoiser model at per-sample times `t`. */
function sigmas(c: NoiseCoordinates, t: tf.Tensor, fn: string): tf.Tensor1D {
  const values = t.dataSync();
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = c.noiseLevel(values[i] as number);
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`${fn}: a "denoiser" model needs a positive noise level, got sigma(${values[i]}) = ${s}; t = 0 holds no noise to remove.`);
    out[i] = s;
  }
  return tf.tensor1d(out);
}

/**
 * The denoised estimate of a "denoiser" model at the state x and per-sample times t (`[batch]`), with y and the
 * per-sample variance sigma^2 (shaped to broadcast against x) that the conversions to scores need.
 */
function denoise(model: ScoreModel, c: NoiseCoordinates, x: tf.Tensor, t: tf.Tensor, fn: string): { d: tf.Tensor; y: tf.Tensor; variance: tf.Tensor } {
  const s = sigmas(c, t, fn);
  const y = c.toY(x, t);
  const d = run(model, y, s, fn);
  const variance = perSample(tf.square(s), x, fn);
  return { d, y, variance };
}

/**
 * Adapts a model to `@dale/losses`: a `BatchScoreFn` `(x, t[batch])`. A `"stein"` model is returned as a plain (Stein)
 * function, a `"hyvarinen"` model tagged `kind: "hyvarinen"`, a `"noise"` model as a Hyvarinen function computing
 * h = -1 - z_hat / sqrt(v(t)), so that the M-DSM loss trains z_hat towards the noise, and a `"denoiser"` model as the
 * Hyvarinen function h = (D(y; sigma) - y) / sigma^2 - 1 with y = log x - m(t) (Tweedie in log space, docs/method.md
 * section 9). Each call runs in `tf.tidy`.
 *
 * @example
 * const loss = mdsmLoss(toLossModel(model, sde), x0, { sde, seed: step });
 */
export function toLossModel(model: ScoreModel, sde: GBM): BatchScoreFn {
  const fn = "toLossModel";
  const hyvarinen = (f: (x: tf.Tensor, t: tf.Tensor) => tf.Tensor): BatchScoreFn =>
    Object.assign((x: tf.Tensor, t: tf.Tensor) => tf.tidy(() => (checkInputs(x, t, fn), f(x, t))), { kind: "hyvarinen" as const });
  switch (model.output) {
    case "stein":
      return (x: tf.Tensor, t: tf.Tensor) => tf.tidy(() => (checkInputs(x, t, fn), run(model, x, t, fn)));
    case "hyvarinen":
      return hyvarinen((x, t) => run(model, x, t, fn));
    case "noise":
      return hyvarinen((x, t) => tf.sub(tf.neg(tf.div(run(model, x, t, fn), logStd(sde, t, x, fn))), 1));
    case "denoiser": {
      const c = noiseCoordinates(sde);
      return hyvarinen((x, t) => {
        const { d, y, variance } = denoise(model, c, x, t, fn);
        return tf.sub(tf.div(tf.sub(d, y), variance), 1);
      });
    }
    default:
      return assertNever(model.output, fn);
  }
}

/**
 * Adapts a model to the samplers: a Stein score `(x, t: number)`, for GBM or for an additive (VP/VE) SDE. The scalar t
 * is broadcast to `[batch]` and each call runs in `tf.tidy`.
 * - GBM: a Hyvarinen output h becomes h / x, and a noise output z_hat (log space) becomes (-1 - z_hat / sqrt(v(t))) / x.
 * - VP/VE: a noise output z_hat predicts Z in x_t = a(t) x_0 + b(t) Z, so the score is -z_hat / b(t) (see
 *   {@link toAdditiveScore}); a Hyvarinen output has no meaning off the positive orthant and is rejected.
 * - A denoiser output D becomes the score by Tweedie's formula in the process's coordinates
 *   (`noiseCoordinates(sde).denoisedToScore`).
 * A Stein output is used as is.
 *
 * @example
 * const samples = daleLangevin(toSamplerScore(ema.model, sde), xT, { ... });
 */
export function toSamplerScore(model: ScoreModel, sde: AnySDE): ScoreFn {
  const fn = "toSamplerScore";
  const score = sde.kind === "gbm" ? gbmScore(model, sde, fn) : toAdditiveScore(model, sde);
  return (x: tf.Tensor, t: number) =>
    tf.tidy(() => {
      if (typeof t !== "number" || !Number.isFinite(t)) throw new Error(`${fn}: t must be a finite number, got ${t}.`);
      if (!(x instanceof tf.Tensor) || x.rank < 1) throw new Error(`${fn}: x must be a tensor [batch, ...].`);
      return score(x, tf.fill([x.shape[0] as number], t, "float32"));
    });
}

/** The Stein score of a model under GBM with per-sample times `t` (`[batch]`); see {@link toSamplerScore}. */
function gbmScore(model: ScoreModel, sde: GBM, fn: string): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  const c = model.output === "denoiser" ? noiseCoordinates(sde) : null;
  return (x, t) => {
    if (c) return c.denoisedToScore(denoise(model, c, x, t, fn).d, x, t);
    const out = run(model, x, t, fn);
    switch (model.output) {
      case "stein":
        return out;
      case "hyvarinen":
        return tf.div(out, x);
      case "noise":
        return tf.div(tf.sub(tf.neg(tf.div(out, logStd(sde, t, x, fn))), 1), x);
      default:
        throw new Error(`${fn}: unknown output kind ${String(model.output)}.`);
    }
  };
}

/**
 * The Stein score of a model under an additive SDE with per-sample times, `(x, t: [batch]) => score`, for the DSM loss
 * and the additive samplers. A `"noise"` output z_hat predicts Z in x_t = a(t) x_0 + b(t) Z (the marginal's std
 * b(t) = `sde.marginalStd(t)`: sqrt(1 - e^-B(t)) for VP, sigma(t) for VE), so score = -z_hat / b(t), the epsilon
 * parameterisation of DDPM and score_sde; a
 * `"denoiser"` output D (in y = x / a(t)) gives score = (D - y) / (sigma^2 a(t)); a `"stein"` output is used as is.
 */
export function toAdditiveScore(model: ScoreModel, sde: VPSDE | VESDE): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  const fn = "toAdditiveScore";
  if (model.output === "hyvarinen") throw new Error(`${fn}: a "hyvarinen" model cannot be used with the additive ${sde.kind} SDE (it needs positive data); train it with GBM.`);
  const c = noiseCoordinates(sde);
  return (x, t) =>
    tf.tidy(() => {
      checkInputs(x, t, fn);
      if (model.output === "denoiser") return c.denoisedToScore(denoise(model, c, x, t, fn).d, x, t);
      const out = run(model, x, t, fn);
      if (model.output === "stein") return out;
      if (sde.domain !== "real") throw new Error(`${fn}: expected a normal marginal from the ${sde.kind} SDE.`);
      return tf.neg(tf.div(out, perSample(Float32Array.from(t.dataSync(), (ti) => sde.marginalStd(ti)), x, fn)));
    });
}

/**
 * A denoiser `(y, sigma) => D(y; sigma)` in the process's denoising coordinates (`noiseCoordinates` of `@dale/sde`),
 * for the sigma-space solvers of `@dale/samplers` (Euler, Heun, DPM-Solver++). A `"denoiser"` model is called
 * directly; any other output goes through its Stein score at t = t(sigma) and Tweedie's formula,
 * D = y + sigma^2 grad_y log p_t(y). Each call runs in `tf.tidy`.
 *
 * @example
 * const y0 = await heun(toDenoiser(model, sde), yT, { sigmas });
 */
export function toDenoiser(model: ScoreModel, sde: AnySDE): (y: tf.Tensor, sigma: number) => tf.Tensor {
  const fn = "toDenoiser";
  const viaScore = model.output === "denoiser" ? null : scoreDenoiser(toSamplerScore(model, sde), sde);
  return (y, sigma) =>
    tf.tidy(() => {
      if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`${fn}: sigma must be a positive finite number, got ${sigma}.`);
      if (!(y instanceof tf.Tensor) || y.rank < 1) throw new Error(`${fn}: y must be a tensor [batch, ...].`);
      return viaScore ? viaScore(y, sigma) : run(model, y, tf.fill([y.shape[0] as number], sigma, "float32"), fn);
    });
}

/**
 * EDM's preconditioning (Karras et al. 2022, arXiv 2206.00364, Table 1 and eq. 7) at noise level sigma for data of
 * std sigma_data: D(y; sigma) = c_skip y + c_out F(c_in y, c_noise) with
 *
 *     c_skip = sd^2 / (sigma^2 + sd^2),  c_out = sigma sd / sqrt(sigma^2 + sd^2),  c_in = 1 / sqrt(sigma^2 + sd^2),
 *     c_noise = ln(sigma) / 4
 *
 * so that the network's input and training target both have unit variance at every noise level. `sigma` is `[batch]`;
 * each result is `[batch]`.
 */
export function edmScalings(sigma: tf.Tensor1D, sigmaData: number): { cSkip: tf.Tensor1D; cOut: tf.Tensor1D; cIn: tf.Tensor1D; cNoise: tf.Tensor1D } {
  if (!(sigmaData > 0) || !Number.isFinite(sigmaData)) throw new Error(`edmScalings: sigmaData must be a positive number, got ${sigmaData}.`);
  return tf.tidy(() => {
    const sd2 = sigmaData * sigmaData;
    const total = tf.add(tf.square(sigma), sd2);
    const cIn = tf.rsqrt(total) as tf.Tensor1D;
    return {
      cSkip: tf.div(sd2, total) as tf.Tensor1D,
      cOut: tf.mul(tf.mul(sigma, sigmaData), cIn) as tf.Tensor1D,
      cIn,
      cNoise: tf.div(tf.log(sigma), 4) as tf.Tensor1D,
    };
  });
}

/** Options of {@link fromFunction}. */
export interface FromFunctionOptions {
  /** What the function returns. */
  output: OutputKind;
  /**
   * The trainable weights the function reads: a list (named by each variable's own name) or a record of stable names.
   * For a tfjs-layers model: `model.trainableWeights.map((w) => w.read() as tf.Variable)`.
   */
  variables?: tf.Variable[] | Record<string, tf.Variable>;
  /** A name stored in the config (and so in checkpoints). */
  name?: string;
}

/**
 * Wraps a user's own network, any `(x, t[batch]) => tensor` (plain tfjs ops, or a tfjs-layers model's `predict` in a
 * closure), as a {@link ScoreModel}, so that it plugs into the adapters, the EMA and the checkpoints (k-diffusion's
 * `external.py` in spirit: a small wrapper, not a flag on the model).
 *
 * @example
 * const w = tf.variable(tf.zeros([1]), true, "w");
 * const model = fromFunction((x, t) => tf.mul(x, w), { output: "hyvarinen", variables: { w } });
 */
export function fromFunction(
  fn: (x: tf.Tensor, t: tf.Tensor) => tf.Tensor,
  options: FromFunctionOptions,
): ScoreModel {
  if (typeof fn !== "function") throw new Error("fromFunction: fn must be a function (x, t) => tensor.");
  const { output } = options;
  if (output !== "stein" && output !== "hyvarinen" && output !== "noise" && output !== "denoiser") {
    throw new Error(`fromFunction: output must be "stein", "hyvarinen", "noise" or "denoiser", got ${String(output)}.`);
  }
  const given = options.variables ?? [];
  const named: Record<string, tf.Variable> = Array.isArray(given) ? {} : { ...given };
  if (Array.isArray(given)) {
    for (const v of given) {
      if (v.name in named) throw new Error(`fromFunction: two variables are named "${v.name}"; pass a record instead.`);
      named[v.name] = v;
    }
  }
  const config: FunctionModelConfig = { kind: "function", output, ...(options.name !== undefined ? { name: options.name } : {}) };
  return {
    apply: (x, t) => tf.tidy(() => fn(x, t)),
    output,
    variables: Object.values(named),
    config,
    namedVariables: () => ({ ...named }),
  };
}

function assertNever(value: never, fn: string): never {
  throw new Error(`${fn}: unknown output kind ${String(value)}.`);
}
