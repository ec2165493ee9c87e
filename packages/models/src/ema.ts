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

  /** One averaging step: ema = decay * ema + (1 - decay) * w for every variable. */
  update(): void {
    const next = tf.tidy(() => this.shadow.map((s, i) => tf.keep(tf.add(tf.mul(s, this.decayT), tf.mul(this.vars[i] as tf.Variable, this.restT)))));
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
