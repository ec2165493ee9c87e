import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { parseTar, type ParsedTarFileItem } from "nanotar";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { readFileNamed, sha256Of, verifyFile } from "./hash";
import { parseSha256Sums } from "./known-files";
import { gunzipFile, type GunzipLimit } from "./gunzip";
import { DATASET_NAMES, DATASET_SPECS, MIRRORS, datasetFiles } from "./specs";
import { CIFAR_RECORD_BYTES, CIFAR_RECORDS_PER_BATCH, parseCifarBatch, parseIdxImages, parseIdxLabels } from "./formats";
import type { Dataset, DatasetName, Split } from "./types";

export interface LoadOptions {
  split: Split;
  /** The folder that contains `mnist/`, `fashion-mnist/`, `kmnist/`, `cifar10/`. Default: `$DALE_DATA_DIR`, then the cache. */
  dir?: string;
  /** Fetch missing files from the official mirror into `cacheDir` (never by default). */
  download?: boolean;
  /** Where downloads go, and the last folder searched. Default `~/.cache/dale/datasets`. */
  cacheDir?: string;
  /** Keep only the first `limit` records (CIFAR-10 train reads only the batches it needs). */
  limit?: number;
  /**
   * @internal For tests: a mirror base URL to fetch from instead of the official one, and sha256 values (by file name)
   * to check downloads against.
   */
  _download?: { baseUrl?: string; sha256?: Record<string, string> };
}

export function defaultCacheDir(): string {
  return join(homedir(), ".cache", "dale", "datasets");
}

const FN = "loadDataset";

/**
 * Loads a dataset split from local files (checked against SHA256SUMS or the built-in checksum table), downloading it
 * into the cache first only when `download: true`.
 *
 * @example
 * const test = await loadDataset("mnist", { split: "test" }); // uses $DALE_DATA_DIR/mnist/
 * test.count; // 10000
 */
export async function loadDataset(name: DatasetName, options: LoadOptions): Promise<Dataset> {
  if (!DATASET_NAMES.includes(name)) {
    throw new Error(`${FN}: name must be one of ${DATASET_NAMES.map((n) => `"${n}"`).join(", ")}, got ${JSON.stringify(name)}.`);
  }
  if (options === null || typeof options !== "object") throw new Error(`${FN}: options must be an object with a split, got ${String(options)}.`);
  const { split, limit } = options;
  if (split !== "train" && split !== "test") throw new Error(`${FN}: options.split must be "train" or "test", got ${JSON.stringify(split)}.`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`${FN}: options.limit must be a positive integer, got ${limit}.`);
  }
  for (const key of ["dir", "cacheDir"] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== "string" || v === "")) throw new Error(`${FN}: options.${key} must be a non-empty path string, got ${JSON.stringify(v) ?? String(v)}.`);
  }
  if (options.download !== undefined && typeof options.download !== "boolean") {
    throw new Error(`${FN}: options.download must be true or false, got ${JSON.stringify(options.download) ?? String(options.download)}.`);
  }
  const files = datasetFiles(name, split);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const roots = options.dir !== undefined ? [options.dir] : [...(process.env.DALE_DATA_DIR ? [process.env.DALE_DATA_DIR] : []), cacheDir];
  const uniqueRoots = [...new Set(roots)];

  let folder = uniqueRoots.map((root) => join(root, name)).find((f) => files.every((file) => existsSync(join(f, file))));
  if (folder === undefined && options.download === true) {
    folder = await downloadSplit(name, files, join(cacheDir, name), options._download);
  }
  if (folder === undefined) throw missingError(name, split, files, uniqueRoots);

  if (name === "cifar10") return loadCifar(folder, files, split, limit);
  return loadIdx(name, folder, files, split, limit);
}

/** Reads `file`, checks its hash, and gunzips it with a cap at the size its format says it holds. */
function readChecked(file: string, dataset: string, limit: GunzipLimit): Uint8Array {
  const gz = readFileNamed(FN, file, `a gzip file of the ${dataset} dataset`);
  verifyFile(FN, file, gz, dataset);
  return gunzipFile(FN, file, gz, limit);
}

function loadIdx(name: DatasetName, folder: string, files: string[], split: Split, limit: number | undefined): Dataset {
  const imagesFile = join(folder, files[0]!);
  const labelsFile = join(folder, files[1]!);
  const spec = DATASET_SPECS[name];
  const count = spec.count[split];
  const expected = { count, height: spec.height, width: spec.width, of: `the ${name} ${split} split` };
  const img = parseIdxImages(FN, imagesFile, readChecked(imagesFile, name, { bytes: 16 + count * spec.height * spec.width, what: `16-byte header + ${count} images of ${spec.height}x${spec.width}` }), expected);
  const labels = parseIdxLabels(FN, labelsFile, readChecked(labelsFile, name, { bytes: 8 + count, what: `8-byte header + ${count} labels` }), expected);
  if (labels.length !== img.count) {
    throw new Error(`${FN}: ${labelsFile} holds ${labels.length} labels but ${imagesFile} holds ${img.count} images; expected the same count.`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! > 9) throw new Error(`${FN}: ${labelsFile} label ${i} is ${labels[i]}; expected 0..9.`);
  }
  const kept = Math.min(img.count, limit ?? img.count);
  const size = img.height * img.width;
  return {
    // Whole file: views into the decompressed buffer; with a limit, copies so the rest can be freed.
    images: kept === img.count ? img.pixels : img.pixels.slice(0, kept * size),
    labels: kept === img.count ? labels : labels.slice(0, kept),
    count: kept,
    height: img.height,
    width: img.width,
    channels: 1,
    name,
    split,
    source: folder,
  };
}

function loadCifar(folder: string, files: string[], split: Split, limit: number | undefined): Dataset {
  const parts: { images: Uint8Array; labels: Uint8Array; count: number }[] = [];
  let total = 0;
  for (const f of files) {
    if (limit !== undefined && total >= limit) break;
    const file = join(folder, f);
    const batch = parseCifarBatch(
      FN,
      file,
      readChecked(file, "cifar10", { bytes: CIFAR_RECORDS_PER_BATCH * CIFAR_RECORD_BYTES, what: `${CIFAR_RECORDS_PER_BATCH} records of ${CIFAR_RECORD_BYTES} bytes` }),
      CIFAR_RECORDS_PER_BATCH,
    );
    parts.push(batch);
    total += batch.count;
  }
  const count = Math.min(total, limit ?? total);
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.count, count - at);
    if (take <= 0) break;
    images.set(part.images.subarray(0, take * 3072), at * 3072);
    labels.set(part.labels.subarray(0, take), at);
    at += take;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3, name: "cifar10", split, source: folder };
}

function missingError(name: DatasetName, split: Split, files: string[], roots: string[]): Error {
  const lines = [`${FN}: ${name} ${split} split not found. Looked for:`];
  for (const root of roots) for (const f of files) lines.push(`  ${join(root, name, f)}${existsSync(join(root, name, f)) ? " (present)" : " (missing)"}`);
  lines.push(`Directories tried: ${roots.map((r) => join(r, name)).join(", ")}.`);
  if (name === "kmnist" && split === "train") {
    lines.push(
      "Note: our shared KMNIST copy lacks train-images-idx3-ubyte.gz (the 60000 training images; upstream md5 bdb82020997e1d708af4cf47b453dcf7, 18165135 bytes): only the test split and the training labels are there.",
    );
  }
  lines.push(
    `Provide the files by setting DALE_DATA_DIR to the folder that contains ${name}/, passing { dir }, or passing { download: true } to fetch them from ${MIRRORS[name]} into the cache${name === "cifar10" ? " (the 170 MB archive, split into one gzip file per batch)" : ""}.`,
  );
  return new Error(lines.join("\n"));
}

async function downloadSplit(
  name: DatasetName,
  files: string[],
  folder: string,
  internal: LoadOptions["_download"],
): Promise<string> {
  if (name === "cifar10") return downloadCifar(folder, internal);
  const base = internal?.baseUrl ?? MIRRORS[name];
  mkdirSync(folder, { recursive: true });
  for (const f of files) {
    const dest = join(folder, f);
    if (existsSync(dest)) continue;
    await downloadFile(new URL(f, base.endsWith("/") ? base : `${base}/`).href, dest, name, internal?.sha256);
  }
  return folder;
}

/** The official CIFAR-10 archive and the folder inside it. */
export const CIFAR_ARCHIVE = "cifar-10-binary.tar.gz";
const CIFAR_ARCHIVE_FOLDER = "cifar-10-batches-bin";

/**
 * CIFAR-10 from the official archive: downloads `cifar-10-binary.tar.gz` (checked against its sha256), checks each
 * of the six batch files in it (10,000 records of 3,073 bytes), writes each as `<file>.gz` with its hash recorded in
 * SHA256SUMS, and deletes the archive. Files already in `folder` are kept.
 */
async function downloadCifar(folder: string, internal: LoadOptions["_download"]): Promise<string> {
  const files = [...datasetFiles("cifar10", "train"), ...datasetFiles("cifar10", "test")];
  const missing = files.filter((f) => !existsSync(join(folder, f)));
  if (missing.length === 0) return folder;
  mkdirSync(folder, { recursive: true });
  const archive = join(folder, CIFAR_ARCHIVE);
  if (!existsSync(archive)) {
    const url = internal?.baseUrl !== undefined ? new URL(CIFAR_ARCHIVE, internal.baseUrl.endsWith("/") ? internal.baseUrl : `${internal.baseUrl}/`).href : MIRRORS.cifar10;
    await downloadFile(url, archive, "cifar10", internal?.sha256);
  } else {
    // An archive left by an interrupted extraction is checked again before it is trusted.
    verifyFile(FN, archive, readFileNamed(FN, archive, "the CIFAR-10 archive"), "cifar10", internal?.sha256?.[CIFAR_ARCHIVE] ? { [CIFAR_ARCHIVE]: internal.sha256[CIFAR_ARCHIVE] } : undefined);
  }
  let entries: ParsedTarFileItem[];
  try {
    entries = parseTar(gunzipFile(FN, archive, readFileNamed(FN, archive, "the CIFAR-10 archive")));
  } catch (error) {
    throw new Error(`${FN}: ${archive} is not a readable tar archive (${error instanceof Error ? error.message : String(error)}); delete it and download it again.`);
  }
  for (const f of missing) {
    const inner = `${CIFAR_ARCHIVE_FOLDER}/${f.replace(/\.gz$/, "")}`;
    const entry = entries.find((e) => e.name === inner || e.name === `./${inner}`);
    if (!entry?.data) throw new Error(`${FN}: ${archive} has no ${inner}; it is not the official CIFAR-10 binary archive.`);
    parseCifarBatch(FN, `${archive}:${inner}`, entry.data, CIFAR_RECORDS_PER_BATCH);
    const gz = gzipSync(entry.data);
    const dest = join(folder, f);
    const tmp = `${dest}.part-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, gz);
    renameSync(tmp, dest);
    recordHash(dest, sha256Of(gz));
  }
  rmSync(archive, { force: true });
  return folder;
}

/**
 * Fetches `url` with the global fetch into a temporary file beside `dest`, checks its hash (the override, else the
 * built-in table for `dataset`), then renames it into place, so `dest` only ever holds a verified file.
 */
export async function downloadFile(url: string, dest: string, dataset: string, sha256?: Record<string, string>): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`${FN}: download of ${url} failed (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (!response.ok) throw new Error(`${FN}: download of ${url} failed: HTTP ${response.status} ${response.statusText}.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const tmp = `${dest}.part-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, bytes);
  try {
    const file = basename(dest);
    verifyFile(FN, dest, bytes, dataset, sha256?.[file] ? { [file]: sha256[file]! } : undefined);
    renameSync(tmp, dest);
    recordHash(dest, sha256Of(bytes));
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Adds (or replaces) a downloaded file's verified hash in the SHA256SUMS beside it, so later loads check against it. */
function recordHash(file: string, hash: string): void {
  const sumsPath = join(dirname(file), "SHA256SUMS");
  const sums = existsSync(sumsPath) ? parseSha256Sums(readFileNamed(FN, sumsPath, "a sha256sum listing").toString("utf8")) : new Map<string, string>();
  sums.set(basename(file), hash);
  const text = [...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, h]) => `${h}  ${name}\n`).join("");
  const tmp = `${sumsPath}.part-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, text);
  renameSync(tmp, sumsPath);
}
