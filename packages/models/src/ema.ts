import * as tf from "@tensorflow/tfjs-core";

/**
 * An exponential moving average of weights (Polyak averaging; DDPM and the reference use decay 0.9999):
 *
 *     ema <- decay * ema + (1 - decay) * w
 *
 * The averages are kept tensors owned by this object: `update` disposes what it replaces, `dispose` frees them.
 * Give the variables as a record (e.g. `model.namedVariables()`) so that {@link Ema.namedTensors} has stable names.
 *
 * @example
 * const ema = new Ema(model.namedVariables(), 0.9999);
 * // after each optimizer step:
 * ema.update();
 * const samples = ema.apply(() => sample(toSamplerScore(model, sde), ...));
 */
export class Ema {
  readonly decay: number;
  private readonly names: string[];
  private readonly vars: tf.Variable[];
  private shadow: tf.Tensor[];
  private readonly decayT: tf.Scalar;
  private readonly restT: tf.Scalar;

  constructor(variables: tf.Variable[] | Record<string, tf.Variable>, decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`Ema: decay must be in [0, 1), got ${decay}.`);
    const entries = Array.isArray(variables) ? variables.map((v) => [v.name, v] as const) : Object.entries(variables);
    if (new Set(entries.map(([n]) => n)).size !== entries.length) throw new Error("Ema: variable names must be unique.");
    this.decay = decay;
    this.names = entries.map(([n]) => n);
    this.vars = entries.map(([, v]) => v);
    this.shadow = this.vars.map((v) => tf.keep(v.clone()));
    this.decayT = tf.keep(tf.scalar(decay));
    this.restT = tf.keep(tf.scalar(1 - decay));
  }

  /**
   * One averaging step: ema = d * ema + (1 - d) * w for every variable, with d = `decay` (default this EMA's own; pass
   * {@link emaDecayAt}'s value for a warm-up).
   */
  update(decay?: number): void {
    if (decay !== undefined && !(decay >= 0 && decay < 1)) throw new Error(`Ema.update: decay must be in [0, 1), got ${decay}.`);
    // The kept scalars serve the usual case (no warm-up, or a warm-up that has reached `decay`): no upload per step.
    const own = decay === undefined || decay === this.decay;
    const next = tf.tidy(() => {
      const d = own ? this.decayT : tf.scalar(decay);
      const rest = own ? this.restT : tf.scalar(1 - decay);
      return this.shadow.map((s, i) => tf.keep(tf.add(tf.mul(s, d), tf.mul(this.vars[i] as tf.Variable, rest))));
    });
    tf.dispose(this.shadow);
    this.shadow = next;
  }

  /**
   * Runs `fn` with the averaged weights assigned to the variables, then restores the trained weights (also when `fn`
   * throws or its promise rejects).
   */
  apply<T>(fn: () => T): T {
    const saved = this.vars.map((v) => tf.keep(v.clone()));
    this.vars.forEach((v, i) => v.assign(this.shadow[i] as tf.Tensor));
    const restore = () => {
      this.vars.forEach((v, i) => v.assign(saved[i] as tf.Tensor));
      tf.dispose(saved);
    };
    let result: T;
    try {
      result = fn();
    } catch (err) {
      restore();
      throw err;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  /** The averages by name (owned by this object: do not dispose them). */
  namedTensors(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.names.map((n, i) => [n, this.shadow[i] as tf.Tensor]));
  }

  /** Replaces the averages (e.g. from a checkpoint); every name must be present with the variable's shape. */
  setNamedTensors(tensors: Record<string, tf.Tensor>): void {
    const next = this.names.map((n, i) => {
      const t = tensors[n];
      const v = this.vars[i] as tf.Variable;
      if (t === undefined) throw new Error(`Ema.setNamedTensors: no tensor named "${n}".`);
      if (!tf.util.arraysEqual(t.shape, v.shape)) throw new Error(`Ema.setNamedTensors: "${n}" has shape [${t.shape}], expected [${v.shape}].`);
      return tf.keep(t.clone());
    });
    tf.dispose(this.shadow);
    this.shadow = next;
  }

  /** Frees the averages (the variables are not touched). */
  dispose(): void {
    tf.dispose(this.shadow);
    tf.dispose([this.decayT, this.restT]);
    this.shadow = [];
  }
}

/**
 * The decay of the EMA update after `updates` earlier updates: `decay`, or with `warmup`
 * min(decay, (1 + updates) / (10 + updates)), the warm-up of TensorFlow's `ExponentialMovingAverage(num_updates)` and
 * diffusers' `EMAModel`. Without it the average starts from the initial weights and forgets them only as decay^t: at
 * decay 0.999 a 2,000-step run still keeps 0.999^2000 = 13.5% of its random initialisation in the EMA. With it, the
 * first update copies 90% of the weights, and the window (about 1 / (1 - d) updates) grows with the run, up to
 * 1 / (1 - decay).
 */
export function emaDecayAt(decay: number, warmup: boolean, updates: number): number {
  if (!(decay >= 0 && decay < 1)) throw new Error(`emaDecayAt: decay must be in [0, 1), got ${decay}.`);
  if (!(Number.isInteger(updates) && updates >= 0)) throw new Error(`emaDecayAt: updates must be an integer >= 0, got ${updates}.`);
  return warmup ? Math.min(decay, (1 + updates) / (10 + updates)) : decay;
}
