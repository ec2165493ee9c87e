// Typed access to metrics-reference.json (written by tooling/metrics-reference/make_reference.py); tests only.
import { readFileSync } from "node:fs";

export interface ReferenceSet {
  rows: number;
  dim: number;
  /** base64 of little-endian float32, row-major. */
  f32: string;
}

export interface MetricsReference {
  versions: Record<string, string>;
  sets: Record<string, ReferenceSet>;
  stats: Record<string, { n: number; mean: number[]; cov: number[] }>;
  prng: { seed: number; outputs: number[] }[];
  sample: { seed: number; n: number; m: number; draws: number[][] };
  fid: {
    a: string;
    b: string;
    pytorchFid: number;
    sqrtmMaxImag: number;
    offsetUsed: boolean;
    eigh: number;
    exact: number;
  }[];
  kid: {
    a: string;
    b: string;
    subsets: number;
    subsetSize: number;
    seed: number;
    degree: number;
    m: number;
    values: number[];
    mean: number;
    std: number;
  }[];
  pr: { real: string; fake: string; k: number; precision: number; recall: number; minMargin: number }[];
  is: { set: string; input: "logits" | "probabilities"; splits: number; values: number[]; mean: number; std: number }[];
}

export const reference: MetricsReference = JSON.parse(
  readFileSync(new URL("./metrics-reference.json", import.meta.url), "utf8"),
) as MetricsReference;

/** A reference feature set as `{ data, rows }` (float32, exactly the numbers Python used). */
export function referenceSet(name: string): { data: Float32Array; rows: number; dim: number } {
  const set = reference.sets[name];
  if (set === undefined) throw new Error(`metrics-reference.json has no set "${name}".`);
  const bytes = Buffer.from(set.f32, "base64");
  const data = new Float32Array(set.rows * set.dim);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(i * 4);
  return { data, rows: set.rows, dim: set.dim };
}

/** |got - want| / |want|. */
export const relErr = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);
