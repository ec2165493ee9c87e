// @dale/data/node: dataset files on disk (loading, checksums, gunzip, downloads into the cache) and the MNIST subset
// shipped with the package. The byte parsers, transforms and batching are in the main entry.
export { loadDataset, defaultCacheDir, downloadFile } from "./load";
export type { LoadOptions } from "./load";
export { sha256Of } from "./hash";
export { gunzipFile } from "./gunzip";
export type { GunzipLimit } from "./gunzip";
export { loadBuiltinMnist, builtinMnistPath, BUILTIN_MNIST_FILE, BUILTIN_MNIST_SHA256 } from "./builtin";
