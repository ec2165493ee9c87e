/** The datasets that {@link loadDataset} knows. */
export type DatasetName = "mnist" | "fashion-mnist" | "kmnist" | "cifar10";
export type Split = "train" | "test";

/** A decoded image dataset held on the host as bytes. */
export interface Dataset {
  /** uint8 pixels, `count * height * width * channels`, NHWC, row-major. */
  images: Uint8Array;
  /** uint8 class labels 0..9, one per image. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  name: DatasetName;
  split: Split;
  /** Where the data came from: the dataset folder, or `builtin:<file>` for the shipped subset. */
  source: string;
}
