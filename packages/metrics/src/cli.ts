// dale-metrics: FID, KID, and precision and recall between two feature files, for features computed anywhere (a
// PyTorch Inception, a Dale classifier, another library's network). The arithmetic is this package's: float64, checked
// against pytorch-fid, torch-fidelity and Kynkaanniemi et al.'s code (src/*.test.ts).
//
//   dale-metrics real.npy fake.npy [--metrics fid,kid,pr] [--kid-subsets 100] [--kid-subset-size 1000] [--seed 0]
//                [--standardize] [--k 3]
//   dale-metrics fid_stats.npz fake.npy      # pytorch-fid's --save-stats file (mu, sigma): FID only
//
// Command-line parsing is node:util's parseArgs: Node's own, strict about unknown and malformed options, and no
// dependency for a package that otherwise has no command line.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { decodeNpyArray } from "@dale/io";
import { compareFeatures } from "./compare";
import { frechetDistance } from "./frechet";
import type { HostFeatureMatrix } from "./matrix";
import { readNpz, type NpzArray } from "./npz";
import { featureStats } from "./stats";

const NAME = "dale-metrics";
const METRICS = ["fid", "kid", "pr"] as const;
type MetricName = (typeof METRICS)[number];

export const USAGE = `Usage: ${NAME} REAL FAKE [options]

FID, KID, and precision and recall between two sets of feature rows, each a .npy file of shape [rows, dim]
(little-endian float32 or float64, C order, as numpy.save writes them) or an .npz holding one such array. Either file
may instead be an .npz of Gaussian statistics, mu [dim] and sigma [dim, dim], as pytorch-fid's --save-stats writes
it; then only FID is computed. float64 files are read unrounded, and all arithmetic is float64. Prints one JSON
object.

Options:
  --metrics <list>        comma-separated: fid, kid, pr (default fid,kid; fid when a file holds statistics)
  --kid-subsets <n>       KID: random subsets averaged (default 100)
  --kid-subset-size <m>   KID: rows per subset, capped at the smaller set (default 1000)
  --seed <s>              KID: the subsets' seed (default 0)
  --standardize           also KID on features standardised with REAL's mean and std per dimension
  --k <k>                 precision and recall: the k-th nearest neighbour (default 3)
  -h, --help              this text`;

/** What `dale-metrics` prints. */
export interface MetricsCliResult {
  /** What each file held: feature rows, or pytorch-fid's statistics (an .npz of mu and sigma), which have no row count. */
  real: { file: string; kind: "features" | "statistics"; rows?: number; dim: number; dtype: "float32" | "float64" };
  fake: { file: string; kind: "features" | "statistics"; rows?: number; dim: number; dtype: "float32" | "float64" };
  fid?: number;
  kid?: { mean: number; std: number; subsets: number; subsetSize: number; seed: number };
  kidStandardized?: { mean: number; std: number; subsets: number; subsetSize: number; seed: number };
  precision?: number;
  recall?: number;
  k?: number;
}

function integer(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(v) || v < min) throw new Error(`${NAME}: ${flag} must be an integer >= ${min}, got "${value}".`);
  return v;
}

/** One input: feature rows, or (from an .npz of pytorch-fid's `mu` and `sigma`) only their Gaussian statistics. */
type Input =
  | (HostFeatureMatrix & { kind: "features"; dim: number; dtype: "float32" | "float64" })
  | { kind: "statistics"; mean: Float32Array | Float64Array; cov: Float32Array | Float64Array; dim: number; dtype: "float32" | "float64" };

function readInput(file: string, which: string): Input {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new Error(`${NAME}: cannot read ${which} ${file} (${e instanceof Error ? e.message : String(e)}).`);
  }
  let array: NpzArray;
  if (file.toLowerCase().endsWith(".npz")) {
    const arrays = readNpz(bytes, `${NAME}: ${file}`);
    const keys = [...arrays.keys()];
    const mu = arrays.get("mu");
    const sigma = arrays.get("sigma");
    if (mu && sigma) {
      const dim = mu.shape.length === 1 ? (mu.shape[0] as number) : -1;
      if (dim < 1 || sigma.shape.length !== 2 || sigma.shape[0] !== dim || sigma.shape[1] !== dim) {
        throw new Error(`${NAME}: ${file}: ${which} statistics need mu of shape [dim] and sigma of shape [dim, dim], got mu [${mu.shape.join(", ")}] and sigma [${sigma.shape.join(", ")}].`);
      }
      return { kind: "statistics", mean: mu.data, cov: sigma.data, dim, dtype: mu.dtype === "float64" && sigma.dtype === "float64" ? "float64" : "float32" };
    }
    if (keys.length !== 1) {
      throw new Error(`${NAME}: ${file}: an .npz must hold mu and sigma (pytorch-fid's statistics) or exactly one array of feature rows; it holds ${keys.join(", ")}.`);
    }
    array = arrays.get(keys[0] as string) as NpzArray;
  } else {
    array = decodeNpyArray(bytes, `${NAME}: ${file}`);
  }
  const { shape, dtype, data } = array;
  if (shape.length !== 2) throw new Error(`${NAME}: ${file}: ${which} features must have shape [rows, dim], got [${shape.join(", ")}].`);
  const [rows, dim] = shape as [number, number];
  if (rows < 2 || dim < 1) throw new Error(`${NAME}: ${file}: ${which} features need at least 2 rows and 1 dimension, got [${rows}, ${dim}].`);
  return { kind: "features", data, rows, dim, dtype };
}

function described(file: string, x: Input): MetricsCliResult["real"] {
  return x.kind === "features" ? { file, kind: "features", rows: x.rows, dim: x.dim, dtype: x.dtype } : { file, kind: "statistics", dim: x.dim, dtype: x.dtype };
}

/**
 * Runs `dale-metrics` on its arguments (without the node and script paths) and returns what it prints; throws an
 * error starting with "dale-metrics:" on bad input. `{ help: true }` when -h or --help was given.
 */
export function runMetricsCli(argv: readonly string[]): MetricsCliResult | { help: true } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new Error(`${NAME}: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 2) throw new Error(`${NAME}: give two files, REAL and FAKE (.npy or .npz), got ${positionals.length}.\n\n${USAGE}`);
  const subsets = integer(values["kid-subsets"], "--kid-subsets", 100, 1);
  const subsetSize = integer(values["kid-subset-size"], "--kid-subset-size", 1000, 2);
  const seed = integer(values.seed, "--seed", 0, 0);
  const k = integer(values.k, "--k", 3, 1);
  const [realFile, fakeFile] = positionals as [string, string];
  const real = readInput(realFile, "REAL");
  const fake = readInput(fakeFile, "FAKE");
  if (real.dim !== fake.dim) throw new Error(`${NAME}: REAL ${realFile} has ${real.dim} features per row and FAKE ${fakeFile} has ${fake.dim}; they must match.`);
  const statistics = [real.kind === "statistics" ? `REAL ${realFile}` : null, fake.kind === "statistics" ? `FAKE ${fakeFile}` : null].filter((x) => x !== null);
  // From statistics only FID can be computed: that is the default then, and asking for more is an error.
  const metrics = (values.metrics ?? (statistics.length > 0 ? "fid" : "fid,kid")).split(",").map((m) => m.trim());
  for (const m of metrics) if (!(METRICS as readonly string[]).includes(m)) throw new Error(`${NAME}: --metrics takes ${METRICS.join(", ")}, got "${m}".`);
  const want = (m: MetricName) => metrics.includes(m);
  if (values.standardize && !want("kid")) throw new Error(`${NAME}: --standardize applies to KID; add kid to --metrics.`);
  const out: MetricsCliResult = { real: described(realFile, real), fake: described(fakeFile, fake) };
  if (real.kind === "statistics" || fake.kind === "statistics") {
    const other = metrics.filter((m) => m !== "fid");
    if (other.length > 0) throw new Error(`${NAME}: ${statistics.join(" and ")} holds only mu and sigma, from which FID alone can be computed; drop ${other.join(", ")} from --metrics or give feature rows.`);
    const stats = (x: Input) => (x.kind === "statistics" ? { mean: x.mean, cov: x.cov } : featureStats(x));
    out.fid = frechetDistance(stats(real), stats(fake));
    return out;
  }
  const m = compareFeatures(real, fake, { fid: want("fid"), kid: want("kid") && { subsets, subsetSize, seed }, standardizedKid: values.standardize === true, prK: want("pr") && k });
  if (m.fid !== undefined) out.fid = m.fid;
  if (m.kid) out.kid = { mean: m.kid.mean, std: m.kid.std, subsets, subsetSize: m.kid.subsetSize, seed };
  if (m.kidStandardized) out.kidStandardized = { mean: m.kidStandardized.mean, std: m.kidStandardized.std, subsets, subsetSize: m.kidStandardized.subsetSize, seed };
  if (m.precision !== undefined && m.recall !== undefined) {
    out.precision = m.precision;
    out.recall = m.recall;
    out.k = k;
  }
  return out;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      metrics: { type: "string" },
      "kid-subsets": { type: "string" },
      "kid-subset-size": { type: "string" },
      seed: { type: "string" },
      standardize: { type: "boolean" },
      k: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The bin's entry: prints the JSON, or the error and exit code 1. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  try {
    const result = runMetricsCli(argv);
    if ("help" in result) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
