// How many generated digits a classifier reads with confidence: the fraction of samples whose largest class
// probability is at least --threshold (default 0.9), and how many of the 10 classes those confident samples cover.
// The classifier is @dale/metrics' MNIST CNN (trained once on the 60,000 training images, cached under --cache), so
// this is Dale's own check, not the held-out classifier of issue 13's acceptance test.
//
// After `scripts/pnpm build`, from the repository root:
//   node apps/trainer/dist/sample.js --checkpoint checkpoints/mnist-gbm --n 100 --seed 0 --out grid.png --out-npy samples.npy
//   DALE_DATA_DIR=../shared/datasets node tooling/digit-check/check.mjs samples.npy [--threshold 0.9] [--cache out/digit-check]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { initBackend } from "../../packages/backend/dist/index.js";
import { decodeNpy } from "../../packages/data/dist/index.js";
import { loadDataset } from "../../packages/data/dist/node.js";
import { loadOrTrainClassifier } from "../../packages/metrics/dist/index.js";

// The tfjs-core that @dale/metrics itself imports (one module instance, so its engine holds our tensors).
const tfPath = createRequire(new URL("../../packages/metrics/package.json", import.meta.url)).resolve("@tensorflow/tfjs-core");
const tf = await import(pathToFileURL(tfPath).href);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threshold: { type: "string", default: "0.9" }, cache: { type: "string", default: "out/digit-check" } },
});
const file = positionals[0];
if (!file) throw new Error("digit-check: give the .npy of samples ([N, 28, 28, 1] float32 in [0, 1], from dale-sample --out-npy).");
const threshold = Number(values.threshold);
if (!(threshold > 0 && threshold < 1)) throw new Error(`digit-check: --threshold must be in (0, 1), got ${values.threshold}.`);
const dir = process.env.DALE_DATA_DIR;
if (!dir) throw new Error("digit-check: set DALE_DATA_DIR to the folder holding mnist/.");

await initBackend();
const { shape, data } = decodeNpy(new Uint8Array(readFileSync(file)));
if (shape.length !== 4 || shape[1] !== 28 || shape[2] !== 28 || shape[3] !== 1) {
  throw new Error(`digit-check: ${file} must hold [N, 28, 28, 1] images, got [${shape}].`);
}
const { classifier, cached } = await loadOrTrainClassifier({
  key: "mnist-digit-check",
  cacheDir: values.cache,
  train: async () => ({
    train: await loadDataset("mnist", { split: "train", dir }),
    test: await loadDataset("mnist", { split: "test", dir }),
    dataset: "mnist",
    seed: 0,
    epochs: 2,
  }),
});
const n = shape[0];
const probs = tf.tidy(() => classifier.probabilities(tf.tensor4d(data, shape)));
const p = probs.arraySync();
probs.dispose();
const counts = new Array(10).fill(0);
let confident = 0;
let nan = 0;
for (const row of p) {
  if (row.some((v) => !Number.isFinite(v))) {
    nan++;
    continue;
  }
  const best = row.indexOf(Math.max(...row));
  if (row[best] >= threshold) {
    confident++;
    counts[best]++;
  }
}
console.log(
  JSON.stringify({
    file,
    n,
    threshold,
    confident,
    fraction: confident / n,
    classesPresent: counts.filter((c) => c > 0).length,
    perClass: counts,
    nonFinite: nan,
    classifier: { ...classifier.info, cached },
  }),
);
