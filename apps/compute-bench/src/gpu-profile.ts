// Where does a WebGPU training step of ref-cnn-wide go? Packed with ../shared/gpu/pack.sh and run on the GPU machine.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@dale/backend";
import { buildRefCnn } from "./nets";

await initBackend({ prefer: "webgpu", verbose: true });
const batch = 256;
const net = buildRefCnn("wide");
const x = tf.randomNormal([batch, 28, 28, 1]) as tf.Tensor4D;
const target = tf.randomNormal([batch, 28, 28, 1]) as tf.Tensor4D;
const opt = tf.train.adam(1e-3);

async function timeIt(name: string, f: () => tf.Tensor | tf.Tensor[], reps = 30, syncEach = true) {
  for (let i = 0; i < 3; i++) {
    const out = [f()].flat();
    await out[0]?.data();
    tf.dispose(out);
  }
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    const out = [f()].flat();
    if (syncEach || i === reps - 1) await out[0]?.data();
    tf.dispose(out);
    times.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(40)} median ${times[reps >> 1]?.toFixed(2)} ms  min ${times[0]?.toFixed(2)}  mean(total/reps) ${(total / reps).toFixed(2)}`);
}

await timeIt("forward", () => net.forward(x));
await timeIt("loss + grads (no optimizer)", () => {
  const { value, grads } = tf.variableGrads(() => net.loss(x, target));
  return [value, ...Object.values(grads)];
});
await timeIt("full Adam step", () => net.lossAndStep(x, target, opt));
await timeIt("full Adam step, sync every 30", () => net.lossAndStep(x, target, opt), 30, false);
// Hypothesis: every JS number in an op becomes a fresh scalar tensor uploaded to the GPU.
const small = tf.randomNormal([1000]);
const beta = tf.scalar(0.9);
await timeIt("100 x mul(t, 0.9) (number)", () => tf.tidy(() => { let y = small; for (let i = 0; i < 100; i++) y = tf.mul(y, 0.9); return y; }));
await timeIt("100 x mul(t, beta) (kept scalar)", () => tf.tidy(() => { let y = small; for (let i = 0; i < 100; i++) y = tf.mul(y, beta); return y; }));
// Adam with its constants kept on the GPU.
const c = { b1: tf.scalar(0.9), nb1: tf.scalar(0.1), b2: tf.scalar(0.999), nb2: tf.scalar(0.001), eps: tf.scalar(1e-7), lr: tf.scalar(-1e-3), one: tf.scalar(1) };
const acc1 = tf.variable(tf.scalar(1)); const acc2 = tf.variable(tf.scalar(1));
const m = net.vars.map((v) => tf.variable(tf.zerosLike(v))); const v2 = net.vars.map((v) => tf.variable(tf.zerosLike(v)));
const keptAdam = () => {
  const { value, grads } = tf.variableGrads(() => net.loss(x, target), net.vars);
  tf.tidy(() => {
    acc1.assign(tf.mul(acc1, c.b1)); acc2.assign(tf.mul(acc2, c.b2));
    const step = tf.div(tf.mul(c.lr, tf.sqrt(tf.sub(c.one, acc2))), tf.sub(c.one, acc1));
    net.vars.forEach((w, i) => {
      const g = grads[w.name] as tf.Tensor;
      const mi = m[i] as tf.Variable; const vi = v2[i] as tf.Variable;
      mi.assign(tf.add(tf.mul(mi, c.b1), tf.mul(g, c.nb1)));
      vi.assign(tf.add(tf.mul(vi, c.b2), tf.mul(tf.square(g), c.nb2)));
      w.assign(tf.add(w, tf.mul(step, tf.div(mi, tf.add(tf.sqrt(vi), c.eps)))));
    });
  });
  tf.dispose(Object.values(grads));
  return value;
};
await timeIt("Adam with kept constants", keptAdam);
const prof = await tf.profile(async () => {
  const l = net.lossAndStep(x, target, opt);
  await l.data();
  l.dispose();
});
const agg = new Map<string, { n: number; ms: number }>();
for (const k of prof.kernels) {
  const e = agg.get(k.name) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : Number.NaN;
  agg.set(k.name, e);
}
console.log(`kernels per step: ${prof.kernels.length}, newBytes ${prof.newBytes}, peakBytes ${prof.peakBytes}`);
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${k.padEnd(28)} x${v.n}  ${v.ms.toFixed(2)} ms`);
process.exit(0);
