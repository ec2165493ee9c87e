import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readFileNamed, sha256Of } from "./hash";
import { gunzipFile } from "./gunzip";
import type { Dataset } from "./types";

/** File name of the shipped subset, in the package's `builtin/` folder. */
export const BUILTIN_MNIST_FILE = "mnist-4k.bin.gz";
/** sha256 of builtin/mnist-4k.bin.gz, written by scripts/make-builtin.mjs. */
export const BUILTIN_MNIST_SHA256 = "a817df80b00e7f92831fe321e2fbd304147e4d9c6535b50e956d2c843ce2278e";
/** "DMB1": Dale MNIST builtin, format 1. Header: magic, count, height, width, channels (uint32 big-endian). */
export const BUILTIN_MAGIC = 0x444d4231;

/** Path of the shipped subset: `../builtin/` next to the built (or source) file. */
export function builtinMnistPath(): string {
  return fileURLToPath(new URL(`../builtin/${BUILTIN_MNIST_FILE}`, import.meta.url));
}

/**
 * The MNIST subset shipped inside the package (4000 training digits, the first 400 of each class in file order), so a
 * fresh machine can train without any download. Its sha256 is checked against {@link BUILTIN_MNIST_SHA256}.
 *
 * @example
 * const ds = loadBuiltinMnist(); // ds.count === 4000, 28x28x1
 */
export function loadBuiltinMnist(options: { path?: string } = {}): Dataset {
  const fn = "loadBuiltinMnist";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object, got ${options === null ? "null" : typeof options}.`);
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    throw new Error(`${fn}: options.path must be a non-empty path string, got ${JSON.stringify(options.path) ?? String(options.path)}.`);
  }
  const file = options.path ?? builtinMnistPath();
  if (!existsSync(file)) {
    throw new Error(`${fn}: ${file} is missing; expected the package's builtin/${BUILTIN_MNIST_FILE} (run scripts/make-builtin.mjs in packages/data to create it).`);
  }
  const gz = readFileNamed(fn, file, `the package's builtin/${BUILTIN_MNIST_FILE}`);
  const actual = sha256Of(gz);
  if (actual !== BUILTIN_MNIST_SHA256) {
    throw new Error(`${fn}: sha256 mismatch for ${file}: expected ${BUILTIN_MNIST_SHA256}, got ${actual}.`);
  }
  const raw = gunzipFile(fn, file, gz);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 20 || view.getUint32(0) !== BUILTIN_MAGIC) {
    throw new Error(`${fn}: ${file} does not start with the builtin magic 0x${BUILTIN_MAGIC.toString(16)} ("DMB1").`);
  }
  const count = view.getUint32(4);
  const height = view.getUint32(8);
  const width = view.getUint32(12);
  const channels = view.getUint32(16);
  const expected = 20 + count + count * height * width * channels;
  if (raw.length !== expected) throw new Error(`${fn}: ${file} holds ${raw.length} bytes after decompression; expected ${expected}.`);
  return {
    images: raw.slice(20 + count),
    labels: raw.slice(20, 20 + count),
    count,
    height,
    width,
    channels,
    name: "mnist",
    split: "train",
    source: `builtin:${file}`,
  };
}
