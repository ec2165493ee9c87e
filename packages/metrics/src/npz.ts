// NumPy's .npz files, as numpy.savez (stored) and numpy.savez_compressed (deflated) write them: a zip archive with one
// .npy member per array, named by its key. pytorch-fid's --save-stats writes its statistics this way
// (np.savez(path, mu=mu, sigma=sigma)). The archive is read by the same zip reader as PyTorch's files (./torch/zip):
// the central directory first, every member's declared size checked against a budget before anything is inflated,
// inflation capped at that size, CRC-32s checked.
import { decodeNpyArray } from "@dale/io";
import { readZipDirectory, readZipEntry } from "./torch/zip";

/** One array of an .npz file. */
export interface NpzArray {
  shape: number[];
  dtype: "float32" | "float64";
  data: Float32Array | Float64Array;
}

/**
 * The arrays of an .npz file by key. Every member must be a float32 or float64 .npy array that `decodeNpyArray` reads:
 * numpy's pickled object arrays are refused, never unpickled. Members whose declared sizes add up to more than
 * `maxBytes` (default 2 GiB) are refused before any is inflated. `where` (e.g. "dale-metrics: stats.npz") starts every
 * error message.
 */
export function readNpz(bytes: Uint8Array, where: string, options: { maxBytes?: number } = {}): Map<string, NpzArray> {
  const maxBytes = options.maxBytes ?? 2 ** 31;
  // A zip archive starts with a local header, or (with no members) with its end record.
  const zipStart = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06));
  if (!zipStart) {
    throw new Error(`${where}: not an .npz file (it does not start as a zip archive).`);
  }
  const entries = [...readZipDirectory(bytes, where, "an .npz file").values()].filter((e) => !e.name.endsWith("/"));
  if (entries.length === 0) throw new Error(`${where}: the archive holds no arrays.`);
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total > maxBytes) throw new Error(`${where}: its members declare ${total} bytes in all, more than the ${maxBytes} allowed; refused before inflating.`);
  const out = new Map<string, NpzArray>();
  for (const entry of entries) {
    if (!entry.name.endsWith(".npy")) throw new Error(`${where}: member ${JSON.stringify(entry.name)} is not a .npy array.`);
    out.set(entry.name.slice(0, -4), decodeNpyArray(readZipEntry(bytes, entry, where), `${where}: ${entry.name}`));
  }
  return out;
}
