// Trains (or loads from the cache) Dale's per-dataset classifiers and prints their test accuracy and training time.
//
//   pnpm --filter @dale/metrics build
//   node packages/metrics/scripts/train-classifiers.mjs [mnist] [fashion-mnist] [kmnist] [cifar10] [--epochs 1] [--cache-dir DIR]
//
// Data comes from $DALE_DATA_DIR (else /work/shared/datasets, as @dale/data's tests do). KMNIST has only a test split
// here: the classifier trains on a fixed 8000 of its 10000 images (splitFixed, seed 0) and is scored on the other 2000.
// Files go to <cache-dir>/<dataset>-v1-seed0-e<epochs>.safetensors (default cache dir: ~/.cache/dale/classifiers).
import { initBackend } from "@dale/backend";
import { loadDataset } from "@dale/data/node";
import { classifierFeatureExtractor, defaultClassifierCacheDir, loadOrTrainClassifier, splitFixed, takeImages } from "../dist/index.js";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const epochs = Number(option("--epochs", "1"));
const cacheDir = option("--cache-dir", defaultClassifierCacheDir());
const datasets = args.length > 0 ? args : ["mnist", "fashion-mnist"];
const dir = process.env.DALE_DATA_DIR ?? "/work/shared/datasets";

const { backend } = await initBackend();
console.log(`backend ${backend}, epochs ${epochs}, cache ${cacheDir}`);

async function trainOptions(name) {
  if (name === "kmnist") {
    const all = await loadDataset("kmnist", { split: "test", dir });
    const { train, test } = splitFixed(all.count, 8000);
    return { train: takeImages(all, train), test: takeImages(all, test), dataset: "kmnist[8000 of test]" };
  }
  const train = await loadDataset(name, { split: "train", dir });
  const test = await loadDataset(name, { split: "test", dir });
  return { train, test, dataset: name };
}

for (const name of datasets) {
  const key = `${name}-v1-seed0-e${epochs}`;
  let seconds = 0;
  const started = performance.now();
  const { classifier, cached, path } = await loadOrTrainClassifier({
    key,
    cacheDir,
    train: async () => {
      const options = await trainOptions(name);
      return {
        ...options,
        seed: 0,
        epochs,
        progressEvery: 200,
        onProgress: (p) => {
          seconds = p.seconds;
          console.log(`  ${name} step ${p.step}/${p.steps} epoch ${p.epoch.toFixed(2)} loss ${p.loss.toFixed(4)} ${p.seconds.toFixed(0)} s`);
        },
      };
    },
  });
  const total = (performance.now() - started) / 1000;
  const { info } = classifier;
  const extractor = classifierFeatureExtractor(classifier);
  console.log(
    JSON.stringify({
      dataset: name,
      cached,
      path,
      testAccuracy: info.testAccuracy,
      testCount: info.testCount,
      trainCount: info.trainCount,
      steps: info.steps,
      batchSize: info.batchSize,
      trainSeconds: cached ? null : Number(seconds.toFixed(1)),
      totalSeconds: Number(total.toFixed(1)),
      name: extractor.name,
    }),
  );
  extractor.dispose();
}
