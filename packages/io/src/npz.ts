import { unzipSync } from "fflate";
import { decodeNpyArray } from "./npy";

/** One array of an `.npz` file, as {@link decodeNpyArray} reads it. */
export interface NpzArray {
  shape: number[];
  dtype: "float32" | "float64";
  data: Float32Array | Float64Array;
}

/**
 * Parses an `.npz` file, as `numpy.savez` (stored) and `numpy.savez_compressed` (deflated) write it: a ZIP archive of
 * `.npy` members, one per array, named by its key (`np.savez(f, mu=mu, sigma=sigma)` holds `mu.npy` and `sigma.npy`;
 * pytorch-fid's `--save-stats` writes exactly that). Returns the arrays by key. Each member must be a float32 or
 * float64 array that {@link decodeNpyArray} reads.
 *
 * The archive is opened with fflate (a small, dependency-free ZIP and DEFLATE library that runs in Node and browsers).
 * Nothing in the file is executed: numpy's pickled object arrays are refused, as `.npy` members of another dtype. A
 * member that would inflate to more than `maxBytes` (default 2 GiB, all members together) is refused before it is
 * inflated, so a small hostile file cannot exhaust memory.
 *
 * @example
 * const { mu, sigma } = decodeNpz(new Uint8Array(readFileSync("fid_stats_cifar10_train.npz")));
 * frechetDistance({ mean: mu.data, cov: sigma.data }, featureStats(fake));
 */
export function decodeNpz(bytes: Uint8Array, options: { caller?: string; maxBytes?: number } = {}): Record<string, NpzArray> {
  const caller = options.caller ?? "decodeNpz";
  const maxBytes = options.maxBytes ?? 2 ** 31;
  if (!(bytes instanceof Uint8Array)) throw new Error(`${caller}: expected the file's bytes as a Uint8Array.`);
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new Error(`${caller}: not an .npz file (it does not start as a ZIP archive).`);
  let total = 0;
  let tooLarge: string | null = null;
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, {
      filter: (file) => {
        total += file.originalSize;
        if (total > maxBytes && tooLarge === null) tooLarge = file.name;
        return tooLarge === null;
      },
    });
  } catch (e) {
    throw new Error(`${caller}: not a readable .npz file (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (tooLarge !== null) throw new Error(`${caller}: the archive's members inflate to more than ${maxBytes} bytes (at ${tooLarge}); refused.`);
  // No prototype: a member named "__proto__.npy" is an array like any other, not the object's prototype.
  const out = Object.create(null) as Record<string, NpzArray>;
  for (const [name, data] of Object.entries(members)) {
    if (name.endsWith("/")) continue; // a folder entry
    if (!name.endsWith(".npy")) throw new Error(`${caller}: member ${JSON.stringify(name)} is not a .npy array.`);
    out[name.slice(0, -4)] = decodeNpyArray(data, `${caller}: ${name}`);
  }
  if (Object.keys(out).length === 0) throw new Error(`${caller}: the archive holds no arrays.`);
  return out;
}
