// A small problem with the ops of a U-Net (convolutions, a strided one, group-norm-like moments, SiLU, matMul, nearest
// resizing, concatenation), its gradients and three tf.train.adam steps. Deterministic: seeded initial values.
// Shared by src/wasm-threads.test.ts (in the test process) and threads-child.mjs (in a child process).
export async function problem(tf) {
  const x = tf.randomNormal([4, 12, 12, 3], 0, 1, "float32", 1);
  const w1 = tf.tidy(() => tf.variable(tf.randomNormal([3, 3, 3, 16], 0, 0.3, "float32", 2)));
  const w2 = tf.tidy(() => tf.variable(tf.randomNormal([3, 3, 16, 16], 0, 0.1, "float32", 3)));
  const w3 = tf.tidy(() => tf.variable(tf.randomNormal([3, 3, 32, 3], 0, 0.1, "float32", 4)));
  const m = tf.tidy(() => tf.variable(tf.randomNormal([16, 16], 0, 0.2, "float32", 5)));
  const vars = [w1, w2, w3, m];
  const loss = () =>
    tf.tidy(() => {
      const h = tf.conv2d(x, w1, 1, "same");
      const g = tf.reshape(h, [4, 12, 12, 4, 4]);
      const { mean, variance } = tf.moments(g, [1, 2, 4], true);
      const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [4, 12, 12, 16]);
      const s = tf.mul(n, tf.sigmoid(n));
      const d = tf.conv2d(s, w2, 2, "same");
      const a = tf.reshape(tf.matMul(tf.reshape(d, [-1, 16]), m), [4, 6, 6, 16]);
      const u = tf.image.resizeNearestNeighbor(a, [12, 12]);
      const y = tf.conv2d(tf.concat([u, s], 3), w3, 1, "same");
      return tf.mean(tf.square(tf.sub(y, x)));
    });
  const { value, grads } = tf.variableGrads(loss, vars);
  const out = { loss: (await value.data())[0], grads: await Promise.all(vars.map(async (v) => Array.from(await grads[v.name].data()))) };
  tf.dispose([value, grads]);
  const opt = tf.train.adam(1e-2);
  out.adam = [];
  for (let i = 0; i < 3; i++) {
    const l = opt.minimize(loss, true, vars);
    out.adam.push((await l.data())[0]);
    l.dispose();
  }
  opt.dispose();
  tf.dispose([x, ...vars]);
  return out;
}
