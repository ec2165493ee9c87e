// @dale/data: what bundles for a browser (dataset specs, byte parsers, tensor transforms, batching). Reading and
// downloading dataset files is @dale/data/node's.
export type { Dataset, DatasetName, Split } from "./types";
export { datasetFiles, DATASET_NAMES, DATASET_SPECS, MIRRORS } from "./specs";
export type { DatasetSpec } from "./specs";
export { KNOWN_FILES, parseSha256Sums } from "./known-files";
export type { KnownFile } from "./known-files";
export { parseIdxImages, parseIdxLabels, parseCifarBatch, CIFAR_RECORD_BYTES } from "./formats";
export type { IdxExpectation } from "./formats";
export { toTensor, toPositive, fromPositive, randomFlipLeftRight, flipMask } from "./transforms";
export { batches } from "./batches";
export type { BatchOptions } from "./batches";
export { encodeNpy, decodeNpy } from "@dale/io";
