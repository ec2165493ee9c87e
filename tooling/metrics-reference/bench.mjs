// Times @dale/metrics' float64 statistics at Inception's dim = 2048 (single-threaded JavaScript).
// Run after `pnpm --filter @dale/metrics build`:
//   node tooling/metrics-reference/bench.mjs [rows] [dim] [--kid] [--pr] [--no-fid]
import {
  featureAccumulator,
  frechetDistance,
  kernelInceptionDistance,
  precisionRecall,
} from "../../packages/metrics/dist/index.js";

const rows = Number(process.argv[2] ?? 4096);
const dim = Number(process.argv[3] ?? 2048);
const withKid = process.argv.includes("--kid");
const withPr = process.argv.includes("--pr");
const withFid = !process.argv.includes("--no-fid");

/** Inception-like features: non-negative, correlated (relu of a random mixing), from a fixed LCG. */
function features(seed, shift) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const k = 64;
  const basis = Float32Array.from({ length: k * dim }, () => u() - 0.5);
  const out = new Float32Array(rows * dim);
  const z = new Float32Array(k);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < k; j++) z[j] = u() * 2 - 1;
    for (let c = 0; c < dim; c++) {
      let v = shift + 0.2 * (u() - 0.5);
      for (let j = 0; j < k; j++) v += z[j] * basis[j * dim + c];
      out[i * dim + c] = Math.max(v, 0);
    }
  }
  return { data: out, rows };
}

// Wall time, and the process's own CPU time (what an unloaded machine's wall time would be, single-threaded).
const time = (label, f) => {
  const t = performance.now();
  const c = process.cpuUsage();
  const r = f();
  const cpu = process.cpuUsage(c);
  const wall = (performance.now() - t) / 1000;
  console.log(`${label}: ${wall.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
  return r;
};
const a = features(1, 0.3);
const b = features(2, 0.35);
if (withFid) {
  const sa = time(`featureStats, ${rows} rows x ${dim}`, () => featureAccumulator({ dim }).add(a).stats());
  const sb = featureAccumulator({ dim }).add(b).stats();
  const fid = time(`frechetDistance, dim ${dim}`, () => frechetDistance(sa, sb));
  console.log(`FID = ${fid}`);
}
if (withKid) {
  const kid = time(`kernelInceptionDistance, 10 subsets of 1000, dim ${dim}`, () =>
    kernelInceptionDistance(a, b, { subsets: 10, subsetSize: 1000 }),
  );
  console.log(`KID = ${kid.mean} +- ${kid.std}`);
}
if (withPr) {
  const pr = time(`precisionRecall, ${rows} rows a side, dim ${dim}`, () => precisionRecall(a, b));
  console.log(`precision = ${pr.precision}, recall = ${pr.recall}`);
}
