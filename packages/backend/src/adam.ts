import * as tf from "@tensorflow/tfjs-core";

/** A tensor with a name, as `tf.Optimizer.getWeights` returns them. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Adam (Kingma and Ba 2015) with every constant kept on the device.
 *
 * tfjs' own `tf.train.adam` turns JS numbers (beta1, 1 - beta1, the learning rate, ...) into fresh scalar tensors
 * on every step; on tfjs-webgpu each such upload costs about 1.2 ms, which measured as 28 ms of a 56 ms training step
 * of ref-cnn-wide on an H100 (BENCHMARKS.md). This optimizer computes the same update,
 *
 *     m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,
 *     w <- w - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
 *
 * (tfjs' and PyTorch's form), with scalars created once. It is a `tf.Optimizer`: `minimize`, `applyGradients`,
 * `getWeights` / `setWeights` (for exact resume) and `dispose` work as usual.
 *
 * @example
 * const opt = adam(1e-3);
 * opt.minimize(() => loss(x), false, vars);
 */
export class Adam extends tf.Optimizer {
  static get className(): string {
    return "DaleAdam";
  }

  private constants: Record<"lr" | "b1" | "nb1" | "b2" | "nb2" | "eps" | "one", tf.Scalar> | null = null;
  private acc1: tf.Variable | null = null;
  private acc2: tf.Variable | null = null;
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  private lr: number;

  constructor(
    learningRate = 1e-3,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-7,
  ) {
    super();
    for (const [name, value, lo, hi] of [
      ["learningRate", learningRate, 0, Infinity],
      ["beta1", beta1, 0, 1],
      ["beta2", beta2, 0, 1],
      ["epsilon", epsilon, 0, Infinity],
    ] as const) {
      if (!(value >= lo && value < hi) || (name === "learningRate" && value === 0)) {
        throw new Error(`adam: ${name} must be in [${lo}, ${hi}), got ${value}.`);
      }
    }
    this.lr = learningRate;
  }

  /** The step size of the next update. */
  get learningRate(): number {
    return this.lr;
  }

  /**
   * Sets the step size from the next update on (a schedule calls it before each update; 0 is allowed, as at the end of
   * a linear decay); the moments are kept. A
   * value equal to the current one costs nothing.
   */
  setLearningRate(learningRate: number): void {
    if (!(learningRate >= 0 && Number.isFinite(learningRate))) {
      throw new Error(`adam.setLearningRate: learningRate must be a finite number >= 0, got ${learningRate}.`);
    }
    if (learningRate === this.lr) return;
    this.lr = learningRate;
    if (this.constants !== null) {
      this.constants.lr.dispose();
      this.constants.lr = tf.keep(tf.scalar(learningRate));
    }
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const c = this.ensureConstants();
    tf.tidy(() => {
      (this.acc1 as tf.Variable).assign(tf.mul(this.acc1 as tf.Variable, c.b1));
      (this.acc2 as tf.Variable).assign(tf.mul(this.acc2 as tf.Variable, c.b2));
      const corr1 = tf.sub(c.one, this.acc1 as tf.Variable);
      const corr2 = tf.sub(c.one, this.acc2 as tf.Variable);
      for (const { name, tensor: g } of list) {
        if (g == null) continue;
        const w = tf.engine().registeredVariables[name];
        if (w === undefined) throw new Error(`adam: no variable named "${name}" is registered.`);
        let state = this.moments.get(name);
        if (state === undefined) {
          state = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(w), false), v: tf.variable(tf.zerosLike(w), false) }));
          this.moments.set(name, state);
        }
        const m = tf.add(tf.mul(state.m, c.b1), tf.mul(g, c.nb1));
        const v = tf.add(tf.mul(state.v, c.b2), tf.mul(tf.square(g), c.nb2));
        state.m.assign(m);
        state.v.assign(v);
        const update = tf.div(tf.div(m, corr1), tf.add(tf.sqrt(tf.div(v, corr2)), c.eps));
        w.assign(tf.sub(w, tf.mul(c.lr, update)));
      }
    });
    this.incrementIterations();
  }

  private ensureConstants() {
    if (this.constants === null) {
      this.constants = tf.tidy(() => ({
        lr: tf.keep(tf.scalar(this.lr)),
        b1: tf.keep(tf.scalar(this.beta1)),
        nb1: tf.keep(tf.scalar(1 - this.beta1)),
        b2: tf.keep(tf.scalar(this.beta2)),
        nb2: tf.keep(tf.scalar(1 - this.beta2)),
        eps: tf.keep(tf.scalar(this.epsilon)),
        one: tf.keep(tf.scalar(1)),
      }));
      // tf.variable shares its initial tensor's data: make that tensor inside a tidy so that only the variable stays.
      this.acc1 = tf.tidy(() => tf.variable(tf.scalar(1), false));
      this.acc2 = tf.tidy(() => tf.variable(tf.scalar(1), false));
    }
    return this.constants;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    this.ensureConstants();
    const out: NamedTensor[] = [await this.saveIterations()];
    out.push({ name: "acc1", tensor: this.acc1 as tf.Variable }, { name: "acc2", tensor: this.acc2 as tf.Variable });
    for (const [name, s] of this.moments) out.push({ name: `${name}/m`, tensor: s.m }, { name: `${name}/v`, tensor: s.v });
    return out;
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weights);
    this.ensureConstants();
    for (const { name, tensor } of rest) {
      if (name === "acc1") (this.acc1 as tf.Variable).assign(tensor);
      else if (name === "acc2") (this.acc2 as tf.Variable).assign(tensor);
      else {
        const [varName, which] = [name.slice(0, name.lastIndexOf("/")), name.slice(name.lastIndexOf("/") + 1)];
        let state = this.moments.get(varName);
        if (state === undefined) {
          state = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(tensor), false), v: tf.variable(tf.zerosLike(tensor), false) }));
          this.moments.set(varName, state);
        }
        if (which === "m") state.m.assign(tensor);
        else if (which === "v") state.v.assign(tensor);
        else throw new Error(`adam.setWeights: unexpected weight "${name}".`);
      }
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  override dispose(): void {
    if (this.constants) tf.dispose(Object.values(this.constants));
    tf.dispose([this.acc1, this.acc2].filter((t): t is tf.Variable => t !== null));
    for (const s of this.moments.values()) tf.dispose([s.m, s.v]);
    this.constants = null;
    this.acc1 = this.acc2 = null;
    this.moments.clear();
    super.dispose();
  }
}

/** `new Adam(learningRate, beta1, beta2, epsilon)`, in the style of `tf.train.adam`. */
export function adam(learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): Adam {
  return new Adam(learningRate, beta1, beta2, epsilon);
}
