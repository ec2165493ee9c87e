// What each dataset is, as data: names, image shapes and counts, mirrors and file names. No file access, so that
// the main entry bundles for a browser; loading from files is `loadDataset` of @dale/data/node.
import type { DatasetName, Split } from "./types";

export const DATASET_NAMES: readonly DatasetName[] = ["mnist", "fashion-mnist", "kmnist", "cifar10"];

/** The shape of each dataset's images and the number of images in each split, as the official files hold them. */
export interface DatasetSpec {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly count: Readonly<Record<Split, number>>;
}

/**
 * What `loadDataset` checks each file's header against: MNIST, Fashion-MNIST and KMNIST are 28x28 grey images, 60000
 * for training and 10000 for testing; CIFAR-10 is 32x32 RGB, five training batches and one test batch of 10000.
 */
export const DATASET_SPECS: Readonly<Record<DatasetName, DatasetSpec>> = {
  mnist: { height: 28, width: 28, channels: 1, count: { train: 60000, test: 10000 } },
  "fashion-mnist": { height: 28, width: 28, channels: 1, count: { train: 60000, test: 10000 } },
  kmnist: { height: 28, width: 28, channels: 1, count: { train: 60000, test: 10000 } },
  cifar10: { height: 32, width: 32, channels: 3, count: { train: 50000, test: 10000 } },
};

export const MIRRORS: Record<DatasetName, string> = {
  mnist: "https://ossci-datasets.s3.amazonaws.com/mnist/",
  "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  kmnist: "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
  cifar10: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
};

/** The files a split is made of, in load order. */
export function datasetFiles(name: DatasetName, split: Split): string[] {
  if (name === "cifar10") {
    return split === "train" ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin.gz`) : ["test_batch.bin.gz"];
  }
  const prefix = split === "train" ? "train" : "t10k";
  return [`${prefix}-images-idx3-ubyte.gz`, `${prefix}-labels-idx1-ubyte.gz`];
}
