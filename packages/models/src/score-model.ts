import * as tf from "@tensorflow/tfjs-core";
import { noiseCoordinates, perSample, scoreDenoiser, type AnySDE, type GBM, type ScoreFn, type VESDE, type VPSDE } from "@dale/sde";
import type { BatchScoreFn, FunctionModelConfig, OutputKind, ScoreModel } from "./types";

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
 * A JS function of time per sample: f(t_i) for each entry of the `[batch]` tensor t (read back to JS once), as doubles.
 * `f` throws, naming the caller, where its value is not usable.
 */
function perTime(t: tf.Tensor, f: (t: number) => number): number[] {
  return Array.from(t.dataSync(), f);
}

/**
 * sqrt(v(t)) per sample, shaped `[batch, 1, ..., 1]` to broadcast against x (v(t) = sde.logVariance(t)), the std of
 * log x_t given x_0 (docs/method.md, section 5).
 */
function logStd(sde: GBM, t: tf.Tensor, x: tf.Tensor, fn: string): tf.Tensor {
  const std = perTime(t, (ti) => {
    const v = sde.logVariance(ti);
    if (!(v > 0)) throw new Error(`${fn}: a "noise" model needs v(t) = sde.logVariance(t) > 0, got v(${ti}) = ${v}.`);
    return Math.sqrt(v);
  });
  return perSample(Float32Array.from(std), x, fn);
}

/** The noise level sigma(t) per sample of a "denoiser" model's coordinates, as doubles. */
function noiseLevels(sde: AnySDE, t: tf.Tensor, fn: string): number[] {
  return perTime(t, (ti) => {
    const s = sde.noiseLevel(ti);
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`${fn}: a "denoiser" model needs a positive noise level, got sigma(${ti}) = ${s}; t = 0 holds no noise to remove.`);
    return s;
  });
}

/** h = -1 - z_hat / std: the Hyvarinen score of a log-space noise prediction (docs/method.md, section 5). */
function noiseHyvarinen(zHat: tf.Tensor, std: tf.Tensor): tf.Tensor {
  return tf.sub(tf.neg(tf.div(zHat, std)), 1);
}

/**
 * The Hyvarinen score of a "noise" model (docs/method.md, section 5): h = -1 - z_hat / sqrt(v(t)).
 * Exposed for tests and custom losses; `t` is `[batch]`.
 */
export function noiseToHyvarinen(zHat: tf.Tensor, t: tf.Tensor, sde: GBM): tf.Tensor {
  return tf.tidy(() => noiseHyvarinen(zHat, logStd(sde, t, zHat, "noiseToHyvarinen")));
}

/**
 * The inverse of {@link noiseToHyvarinen}: z = -sqrt(v(t)) (h + 1), the noise target of a Hyvarinen score.
 */
export function hyvarinenToNoise(h: tf.Tensor, t: tf.Tensor, sde: GBM): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.mul(logStd(sde, t, h, "hyvarinenToNoise"), tf.add(h, 1))));
}

/** A model's output converted to a score: a Stein score, or (under GBM) a Hyvarinen score. */
interface OutputScore {
  /** What `score` returns: h = x grad log p_t or s = grad log p_t. Fixed by the model's output and the SDE. */
  readonly kind: "stein" | "hyvarinen";
  /** The score at the state x and per-sample times t (`[batch]`); call it inside `tf.tidy`. */
  score(x: tf.Tensor, t: tf.Tensor): tf.Tensor;
}

/**
 * The one conversion from a model's output to a score, behind every adapter (docs/method.md, sections 2, 5 and 9).
 * Under GBM every output but a Stein score becomes the Hyvarinen score h = x grad_x log p_t (which needs no division
 * by x, so the M-DSM loss uses it directly; the Stein score is h / x); under VP/VE every output becomes the Stein score:
 *
 *     output      GBM (h, or s for "stein")                  VP / VE (s)
 *     stein       s                                           s
 *     hyvarinen   h                                           rejected (it needs positive data)
 *     noise       h = -1 - z_hat / sqrt(v(t))                 s = -z_hat / b(t)
 *     denoiser    h = (D(y; sigma) - y) / sigma^2 - 1         s = (D(y; sigma) - y) / (sigma^2 a(t))
 *
 * with v(t) = sde.logVariance(t) (log x_t = log x_0 + m(t) + sqrt(v(t)) Z), b(t) = sde.marginalStd(t) (x_t = a(t) x_0
 * + b(t) Z: sqrt(1 - e^-B(t)) for VP, sigma(t) for VE), and, for a denoiser, its coordinates y and noise level
 * sigma = sde.noiseLevel(t) (`noiseCoordinates` of `@dale/sde`: y = log x - m(t) for GBM, x / a(t) for VP/VE), so
 * that both are Tweedie's formula grad_y log p_t(y) = (D - y) / sigma^2 mapped back to x. The noise parameterisation
 * under VP/VE is the epsilon parameterisation of DDPM and score_sde.
 */
function outputScore(model: ScoreModel, sde: AnySDE, fn: string): OutputScore {
  const output = model.output;
  const gbm = sde.kind === "gbm" ? sde : null;
  if (output === "hyvarinen" && !gbm) throw new Error(`${fn}: a "hyvarinen" model cannot be used with the additive ${sde.kind} SDE (it needs positive data); train it with GBM.`);
  const kind = output === "stein" || !gbm ? "stein" : "hyvarinen";
  switch (output) {
    case "stein":
    case "hyvarinen":
      return { kind, score: (x, t) => run(model, x, t, fn) };
    case "noise":
      if (gbm) return { kind, score: (x, t) => noiseHyvarinen(run(model, x, t, fn), logStd(gbm, t, x, fn)) };
      return { kind, score: (x, t) => tf.neg(tf.div(run(model, x, t, fn), perSample(Float32Array.from(perTime(t, (ti) => sde.marginalStd(ti))), x, fn))) };
    case "denoiser": {
      const c = noiseCoordinates(sde);
      return {
        kind,
        score: (x, t) => {
          const sigma = noiseLevels(sde, t, fn);
          const y = c.toY(x, t);
          const d = run(model, y, tf.tensor1d(sigma), fn);
          if (!gbm) return c.denoisedToScore(d, x, t);
          const variance = perSample(Float32Array.from(sigma, (s) => s ** 2), x, fn);
          return tf.sub(tf.div(tf.sub(d, y), variance), 1);
        },
      };
    }
    default:
      return assertNever(output, fn);
  }
}

/**
 * Adapts a model to `@dale/losses`: a `BatchScoreFn` `(x, t[batch])`. A `"stein"` model is returned as a plain (Stein)
 * function; every other output is converted to the Hyvarinen score and tagged `kind: "hyvarinen"`: a `"noise"` model
 * computes h = -1 - z_hat / sqrt(v(t)), so that the M-DSM loss trains z_hat towards the noise, and a `"denoiser"`
 * model h = (D(y; sigma) - y) / sigma^2 - 1 with y = log x - m(t) (Tweedie in log space, docs/method.md section 9).
 * Each call runs in `tf.tidy`.
 *
 * @example
 * const loss = mdsmLoss(toLossModel(model, sde), x0, { sde, seed: step });
 */
export function toLossModel(model: ScoreModel, sde: GBM): BatchScoreFn {
  const fn = "toLossModel";
  const { kind, score } = outputScore(model, sde, fn);
  const loss = (x: tf.Tensor, t: tf.Tensor) => tf.tidy(() => (checkInputs(x, t, fn), score(x, t)));
  return kind === "hyvarinen" ? Object.assign(loss, { kind }) : loss;
}

/**
 * Adapts a model to the samplers: a Stein score `(x, t: number)`, for GBM or for an additive (VP/VE) SDE. The scalar t
 * is broadcast to `[batch]` and each call runs in `tf.tidy`.
 * - GBM: a Hyvarinen output h becomes h / x, a noise output z_hat (log space) (-1 - z_hat / sqrt(v(t))) / x, and a
 *   denoiser output D ((D - y) / sigma^2 - 1) / x (Tweedie's formula in log space).
 * - VP/VE: see {@link toAdditiveScore}; a Hyvarinen output has no meaning off the positive orthant and is rejected.
 * A Stein output is used as is.
 *
 * @example
 * const samples = daleLangevin(toSamplerScore(ema.model, sde), xT, { ... });
 */
export function toSamplerScore(model: ScoreModel, sde: AnySDE): ScoreFn {
  const fn = "toSamplerScore";
  const score = sde.kind === "gbm" ? gbmStein(outputScore(model, sde, fn)) : toAdditiveScore(model, sde);
  return (x: tf.Tensor, t: number) =>
    tf.tidy(() => {
      if (typeof t !== "number" || !Number.isFinite(t)) throw new Error(`${fn}: t must be a finite number, got ${t}.`);
      if (!(x instanceof tf.Tensor) || x.rank < 1) throw new Error(`${fn}: x must be a tensor [batch, ...].`);
      return score(x, tf.fill([x.shape[0] as number], t, "float32"));
    });
}

/** The Stein score of a converted output under GBM: h / x for a Hyvarinen score (docs/method.md, section 2). */
function gbmStein({ kind, score }: OutputScore): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  return kind === "hyvarinen" ? (x, t) => tf.div(score(x, t), x) : score;
}

/**
 * The Stein score of a model under an additive SDE with per-sample times, `(x, t: [batch]) => score`, for the DSM loss
 * and the additive samplers. A `"noise"` output z_hat predicts Z in x_t = a(t) x_0 + b(t) Z (the marginal's std
 * b(t) = `sde.marginalStd(t)`: sqrt(1 - e^-B(t)) for VP, sigma(t) for VE), so score = -z_hat / b(t), the epsilon
 * parameterisation of DDPM and score_sde; a `"denoiser"` output D (in y = x / a(t)) gives score = (D - y) / (sigma^2
 * a(t)); a `"stein"` output is used as is; a `"hyvarinen"` model is rejected.
 */
export function toAdditiveScore(model: ScoreModel, sde: VPSDE | VESDE): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  const fn = "toAdditiveScore";
  const { score } = outputScore(model, sde, fn);
  return (x, t) => tf.tidy(() => (checkInputs(x, t, fn), score(x, t)));
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
