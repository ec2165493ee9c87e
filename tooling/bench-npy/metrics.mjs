// FID, KID (raw and on standardised features), precision and recall of a .npy of samples against a dale-bench run's
// held-out images, in that run's classifier features: the bench's metrics for samples it does not draw itself (a
// sampler setting outside its rows, or another library's samples; autoguided solver rows it draws with --guides). The
// same functions and options as the bench's report stage.
//
// After `scripts/pnpm build`, from the repository root:
//   node apps/trainer/dist/sample.js --checkpoint checkpoints/mnist-gbm --n 500 --seed 1 --out g.png --out-npy s.npy
//   node tooling/bench-npy/metrics.mjs out/table13 mnist s.npy
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { initBackend } from "../../packages/backend/dist/index.js";
import { decodeNpy } from "../../packages/data/dist/index.js";
import { classifierFeatureExtractor, compareFeatures, loadClassifier } from "../../packages/metrics/dist/index.js";

const tfPath = createRequire(new URL("../../packages/metrics/package.json", import.meta.url)).resolve("@tensorflow/tfjs-core");
const tf = await import(pathToFileURL(tfPath).href);
const [run, dataset, file] = process.argv.slice(2);
if (!run || !dataset || !file) throw new Error("bench-npy: give RUN_FOLDER DATASET SAMPLES.npy (a dale-bench run with that dataset prepared).");
await initBackend();
const bench = JSON.parse(readFileSync(join(run, "bench.json"), "utf8"));
const profile = bench.budget;
const ref = decodeNpy(new Uint8Array(readFileSync(join(run, dataset, "reference-features.npy"))));
const real = { data: ref.data, rows: ref.shape[0] };
const { shape, data } = decodeNpy(new Uint8Array(readFileSync(file)));
const extractor = classifierFeatureExtractor(await loadClassifier(join(run, dataset, "classifier.safetensors")));
const parts = [];
for (let i = 0; i < shape[0]; i += 100) {
  const n = Math.min(100, shape[0] - i);
  const size = shape[1] * shape[2] * shape[3];
  const x = tf.tensor4d(data.subarray(i * size, (i + n) * size), [n, shape[1], shape[2], shape[3]]);
  const f = extractor.features(x);
  parts.push(await f.data());
  tf.dispose([x, f]);
}
const dim = parts[0].length / Math.min(100, shape[0]);
const fake = { data: Float32Array.from(parts.flatMap((p) => Array.from(p))), rows: shape[0] };
const m = compareFeatures(real, fake, { kid: { subsets: profile.kid.subsets, subsetSize: profile.kid.subsetSize, seed: bench.seed }, standardizedKid: true, prK: profile.prK });
console.log(
  JSON.stringify({
    file,
    samples: fake.rows,
    dim,
    fid: m.fid,
    kidX1000: 1000 * m.kid.mean,
    kidStandardizedX1000: 1000 * m.kidStandardized.mean,
    precision: m.precision,
    recall: m.recall,
  }),
);
