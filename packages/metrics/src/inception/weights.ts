/**
 * Finding, downloading and checking pytorch-fid's FID Inception weights file.
 *
 * The file is `pt_inception-2015-12-05-6726825d.pth`, released at
 * https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/. Following the torch hub convention
 * (`torch.hub.load_state_dict_from_url(..., check_hash=True)`), the 8 hex digits at the end of its name are the first
 * 8 digits of its SHA-256. That prefix is all that is published: no full hash is known to us, so a download is checked
 * against these 32 bits only (enough to catch a truncated or wrong file, not a deliberate collision).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const FID_INCEPTION_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth";
export const FID_INCEPTION_WEIGHTS_URL = `https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/${FID_INCEPTION_WEIGHTS_FILE}`;
/** The published part of the file's SHA-256 (torch hub convention: the hex digits in the file name). */
export const FID_INCEPTION_SHA256_PREFIX = "6726825d";

export interface FidInceptionWeightsOptions {
  /** Folder searched first, and where a download goes. Default `$DALE_WEIGHTS_DIR`, else `~/.cache/dale/weights`. */
  cacheDir?: string;
  /** Fetch the file from `FID_INCEPTION_WEIGHTS_URL` when it is not found (never by default). */
  download?: boolean;
  /** @internal For tests: another URL to fetch and the sha256 prefix to expect from it. */
  _download?: { url?: string; sha256Prefix?: string };
}

/** Where the weights were found: the path, the file's bytes and their full SHA-256 (hex). */
export interface FidInceptionWeightsFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

const FN = "fidInceptionWeights";

export function defaultInceptionWeightsDir(): string {
  return process.env.DALE_WEIGHTS_DIR || join(homedir(), ".cache", "dale", "weights");
}

/** torch hub's checkpoint folder, where pytorch-fid itself caches the file: `$TORCH_HOME/hub/checkpoints`. */
export function torchHubCheckpointsDir(): string {
  const torchHome = process.env.TORCH_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "torch");
  return join(torchHome, "hub", "checkpoints");
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Finds the official weights file (in `cacheDir`, then in torch hub's cache, where `pytorch-fid` puts it), or with
 * `download: true` downloads it into `cacheDir`, and checks its SHA-256 prefix.
 *
 * The download goes to a temporary file beside the destination and is renamed into place only after the check, so
 * the cache never holds a partial or wrong file.
 *
 * @throws when the file is absent and `download` is not set (the message lists the paths tried and how to provide it),
 *   when the download fails, or when a file's hash does not start with `6726825d`.
 */
export async function fidInceptionWeights(options: FidInceptionWeightsOptions = {}): Promise<FidInceptionWeightsFile> {
  if (options === null || typeof options !== "object") throw new Error(`${FN}: options must be an object, got ${String(options)}.`);
  const cacheDir = options.cacheDir ?? defaultInceptionWeightsDir();
  if (typeof cacheDir !== "string" || cacheDir === "") throw new Error(`${FN}: options.cacheDir must be a non-empty string, got ${JSON.stringify(cacheDir)}.`);
  const prefix = options._download?.sha256Prefix ?? FID_INCEPTION_SHA256_PREFIX;
  const candidates = [...new Set([join(cacheDir, FID_INCEPTION_WEIGHTS_FILE), join(torchHubCheckpointsDir(), FID_INCEPTION_WEIGHTS_FILE)])];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const bytes = new Uint8Array(readFileSync(path));
    const sha256 = sha256Hex(bytes);
    if (!sha256.startsWith(prefix)) {
      throw new Error(
        `${FN}: ${path} has SHA-256 ${sha256}, which does not start with ${prefix} as its name promises; it is corrupt or a different file. Delete it and download it again.`,
      );
    }
    return { path, bytes, sha256 };
  }
  if (options.download !== true) {
    throw new Error(
      [
        `${FN}: the FID Inception weights ${FID_INCEPTION_WEIGHTS_FILE} were not found. Looked for:`,
        ...candidates.map((p) => `  ${p} (missing)`),
        `Provide them by passing { download: true } (fetches ${FID_INCEPTION_WEIGHTS_URL}, about 91 MB, and checks that its SHA-256 starts with ${FID_INCEPTION_SHA256_PREFIX}),`,
        `by downloading that URL yourself into ${cacheDir} (or setting DALE_WEIGHTS_DIR to the folder that holds it), or by passing { weights: "/path/to/${FID_INCEPTION_WEIGHTS_FILE}" }.`,
      ].join("\n"),
    );
  }
  const url = options._download?.url ?? FID_INCEPTION_WEIGHTS_URL;
  const dest = join(cacheDir, FID_INCEPTION_WEIGHTS_FILE);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    const cause = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}` : String(error);
    throw new Error(`${FN}: download of ${url} failed (${cause}). If this machine is offline, fetch the file elsewhere and copy it to ${dest}.`);
  }
  if (!response.ok) throw new Error(`${FN}: download of ${url} failed: HTTP ${response.status} ${response.statusText}.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const sha256 = sha256Hex(bytes);
  if (!sha256.startsWith(prefix)) {
    throw new Error(`${FN}: the download of ${url} (${bytes.length} bytes) has SHA-256 ${sha256}, which does not start with ${prefix}; it was not saved.`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${dest}.part-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, dest);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  return { path: dest, bytes, sha256 };
}
