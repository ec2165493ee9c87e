import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { KNOWN_FILES, parseSha256Sums } from "./known-files";

/** `readFileSync` with an error that names the function, the file and what it should be (EISDIR, ENOENT, EACCES, ...). */
export function readFileNamed(fn: string, file: string, expected: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${fn}: cannot read ${file} (${reason}); expected ${expected}.`);
  }
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function md5Of(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/**
 * Checks `bytes` (the content of `file`) against the folder's SHA256SUMS when it lists the file, else against the
 * built-in table for `dataset`. Throws naming the file, the expected and the actual hash.
 */
export function verifyFile(fn: string, file: string, bytes: Uint8Array, dataset: string, override?: Record<string, string>): void {
  const name = basename(file);
  const sumsPath = join(dirname(file), "SHA256SUMS");
  let expected: string | undefined;
  let origin: string;
  if (override?.[name]) {
    expected = override[name]!.toLowerCase();
    origin = "the expected hash passed in";
  } else if (existsSync(sumsPath) && parseSha256Sums(readFileNamed(fn, sumsPath, "a sha256sum listing").toString("utf8")).has(name)) {
    expected = parseSha256Sums(readFileNamed(fn, sumsPath, "a sha256sum listing").toString("utf8")).get(name);
    origin = sumsPath;
  } else {
    const known = KNOWN_FILES[dataset]?.[name];
    if (known?.sha256) {
      expected = known.sha256;
      origin = `the built-in table of official ${dataset} checksums`;
    } else if (known?.md5) {
      const actual = md5Of(bytes);
      if (actual !== known.md5) {
        throw new Error(`${fn}: md5 mismatch for ${file}: expected ${known.md5} (built-in table of official ${dataset} checksums), got ${actual}. The file is corrupt or not the official one; delete it and provide it again.`);
      }
      return;
    } else {
      throw new Error(`${fn}: no checksum known for ${file}: it is not listed in ${sumsPath} nor in the built-in table for ${dataset}; add it to a SHA256SUMS file beside it.`);
    }
  }
  const actual = sha256Of(bytes);
  if (actual !== expected) {
    throw new Error(`${fn}: sha256 mismatch for ${file}: expected ${expected} (from ${origin}), got ${actual}. The file is corrupt or not the expected one; delete it and provide it again.`);
  }
}
