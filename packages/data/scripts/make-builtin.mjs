#!/usr/bin/env node
// Builds builtin/mnist-4k.bin.gz: the first 400 digits of each class (file order) of the real MNIST training split,
// and records its sha256 in src/builtin.ts.
// Usage: node scripts/make-builtin.mjs [datasetsDir]   (default: $DALE_DATA_DIR, else ../../shared/datasets from the repo)
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const repo = resolve(pkg, "../..");
const candidates = [process.argv[2], process.env.DALE_DATA_DIR, resolve(repo, "../shared/datasets")].filter(Boolean);
const root = candidates.find((d) => existsSync(join(d, "mnist", "train-images-idx3-ubyte.gz")));
if (!root) {
  console.error(`make-builtin: MNIST train split not found; looked in ${candidates.map((d) => join(d, "mnist")).join(", ")}.`);
  process.exit(1);
}
const PER_CLASS = 400;
const MAGIC = 0x444d4231; // "DMB1"
const SHA = {
  "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
  "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
};
const read = (name) => {
  const gz = readFileSync(join(root, "mnist", name));
  const hash = createHash("sha256").update(gz).digest("hex");
  if (hash !== SHA[name]) throw new Error(`make-builtin: sha256 mismatch for ${name}: expected ${SHA[name]}, got ${hash}.`);
  return gunzipSync(gz);
};
const images = read("train-images-idx3-ubyte.gz");
const labels = read("train-labels-idx1-ubyte.gz");
if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error("make-builtin: bad IDX magic.");
const n = labels.readUInt32BE(4);
const [h, w] = [images.readUInt32BE(8), images.readUInt32BE(12)];
const size = h * w;

const taken = new Array(10).fill(0);
const picked = [];
for (let i = 0; i < n && picked.length < 10 * PER_CLASS; i++) {
  const y = labels[8 + i];
  if (taken[y] < PER_CLASS) {
    taken[y]++;
    picked.push(i);
  }
}
const count = picked.length;
const out = Buffer.alloc(20 + count + count * size);
out.writeUInt32BE(MAGIC, 0);
out.writeUInt32BE(count, 4);
out.writeUInt32BE(h, 8);
out.writeUInt32BE(w, 12);
out.writeUInt32BE(1, 16);
picked.forEach((i, k) => {
  out[20 + k] = labels[8 + i];
  images.copy(out, 20 + count + k * size, 16 + i * size, 16 + (i + 1) * size);
});
const gz = gzipSync(out, { level: 9 });
mkdirSync(join(pkg, "builtin"), { recursive: true });
const file = join(pkg, "builtin", "mnist-4k.bin.gz");
writeFileSync(file, gz);
const sha = createHash("sha256").update(gz).digest("hex");
const src = join(pkg, "src", "builtin.ts");
const text = readFileSync(src, "utf8");
const next = text.replace(/export const BUILTIN_MNIST_SHA256 = "[0-9a-f]*";/, `export const BUILTIN_MNIST_SHA256 = "${sha}";`);
if (next === text && !text.includes(sha)) throw new Error("make-builtin: could not find BUILTIN_MNIST_SHA256 in src/builtin.ts.");
writeFileSync(src, next);
console.log(`make-builtin: wrote ${file} (${count} digits, ${gz.length} bytes, sha256 ${sha}) from ${join(root, "mnist")}.`);
