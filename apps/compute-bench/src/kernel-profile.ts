// Where a training step's time goes, kernel by kernel, with and without @dale/backend's wasm kernels, in one process:
//
//   node dist/kernel-profile.js [net] [batch] [rounds]      e.g. node dist/kernel-profile.js unet-mnistSmall 32 3
//
// Alternates the two kernel sets (`dale`, `conv-grad`: see src/kernels.ts) for `rounds` rounds of one forward pass
// and one loss-and-gradients pass each (medians printed), then runs `tf.profile` on one loss-and-gradients pass with
// each set and prints the kernel times summed by kernel name, as a Markdown table.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@dale/backend";
import { selectKernels, type KernelSet } from "./kernels";
import { BENCH_NETS, buildBenchModel, netLabel, type BenchNet } from "./models";
import { median } from "./timing";

const [netArg = "unet-mnistSmall", batchArg = "32", roundsArg = "3"] = process.argv.slice(2);
if (!(BENCH_NETS as readonly string[]).includes(netArg)) throw new Error(`kernel-profile: net must be one of ${BENCH_NETS.join(", ")}, got "${netArg}".`);
const net = netArg as BenchNet;
const batch = Number(batchArg);
const rounds = Number(roundsArg);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`kernel-profile: batch must be a positive integer, got "${batchArg}".`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`kernel-profile: rounds must be a positive integer, got "${roundsArg}".`);

const { backend } = await initBackend();
const model = buildBenchModel(net);
const inputs = model.inputs(batch);
const sets: KernelSet[] = ["dale", "conv-grad"];

const forward = async () => {
  const y = tf.tidy(() => tf.sum(model.forward(inputs)));
  await y.data();
  y.dispose();
};
const lossAndGrads = async () => {
  const { value, grads } = tf.variableGrads(() => model.loss(inputs), model.vars);
  await value.data();
  tf.dispose([value, ...Object.values(grads)]);
};

const times: Record<string, Record<KernelSet, number[]>> = { forward: { dale: [], "conv-grad": [], tfjs: [] }, grads: { dale: [], "conv-grad": [], tfjs: [] } };
for (const set of sets) {
  selectKernels(backend, set);
  await forward(); // warm-up
  await lossAndGrads();
}
for (let r = 0; r < rounds; r++) {
  for (const set of sets) {
    selectKernels(backend, set);
    let t0 = performance.now();
    await forward();
    times.forward![set].push(performance.now() - t0);
    t0 = performance.now();
    await lossAndGrads();
    times.grads![set].push(performance.now() - t0);
  }
}
console.log(`${netLabel(net)}, batch ${batch}, ${backend}, ${rounds} alternating rounds (median ms):`);
for (const [what, by] of Object.entries(times)) {
  const d = median(by.dale);
  const b = median(by["conv-grad"]);
  console.log(`  ${what.padEnd(8)} dale ${d.toFixed(0)}  conv-grad ${b.toFixed(0)}  speed-up ${(b / d).toFixed(2)}x`);
}

const byKernel = new Map<string, Record<string, number>>();
for (const set of sets) {
  selectKernels(backend, set);
  const profile = await tf.profile(async () => {
    const { value, grads } = tf.variableGrads(() => model.loss(inputs), model.vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  for (const k of profile.kernels) {
    const row = byKernel.get(k.name) ?? {};
    row[set] = (row[set] ?? 0) + (k.kernelTimeMs as number);
    byKernel.set(k.name, row);
  }
}
selectKernels(backend, "dale");
const rows = [...byKernel].sort((a, b) => (b[1]["conv-grad"] ?? 0) - (a[1]["conv-grad"] ?? 0));
const total = (set: string) => rows.reduce((n, [, r]) => n + (r[set] ?? 0), 0);
console.log("\n| kernel (one loss-and-gradients pass) | conv-grad ms | dale ms |\n|:--|--:|--:|");
for (const [name, r] of rows) {
  if ((r["conv-grad"] ?? 0) < 1 && (r.dale ?? 0) < 1) continue;
  console.log(`| ${name} | ${(r["conv-grad"] ?? 0).toFixed(1)} | ${(r.dale ?? 0).toFixed(1)} |`);
}
console.log(`| total | ${total("conv-grad").toFixed(0)} | ${total("dale").toFixed(0)} |`);
tf.dispose(inputs);
model.dispose();
