// The benchmark's folder: where each artefact lives, and atomic writes (a killed run never leaves half a file that a
// re-run would trust).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeNpy, encodeNpy } from "@dale/data";
import { writeFileAtomic } from "@dale/models/node";
import type { BenchDataset, BenchProcess, Chunk } from "./plan";

export class BenchStore {
  constructor(readonly root: string) {}

  manifest(): string {
    return join(this.root, "bench.json");
  }
  model(dataset: BenchDataset, process: BenchProcess): string {
    return join(this.root, dataset, "models", process);
  }
  trainLog(dataset: BenchDataset, process: BenchProcess): string {
    return join(this.root, dataset, "models", `${process}.log`);
  }
  classifier(dataset: BenchDataset): string {
    return join(this.root, dataset, "classifier.safetensors");
  }
  reference(dataset: BenchDataset): string {
    return join(this.root, dataset, "reference-features.npy");
  }
  chunkFeatures(chunk: Chunk): string {
    return join(this.root, chunk.config.dataset, "samples", chunk.config.key, `chunk-${String(chunk.index).padStart(5, "0")}.features.npy`);
  }
  chunkInfo(chunk: Chunk): string {
    return this.chunkFeatures(chunk).replace(/\.features\.npy$/, ".json");
  }
  grid(chunk: Chunk): string {
    return join(this.root, chunk.config.dataset, "grids", `${chunk.config.key}.png`);
  }
}

/** Writes through a temporary file, fsync and a rename, creating the folder (`@dale/models`' `writeFileAtomic`). */
export const writeAtomic: (path: string, data: string | Uint8Array) => Promise<void> = writeFileAtomic;

/** A `[rows, dim]` float32 matrix as a .npy file. */
export async function writeFeatures(path: string, data: Float32Array, rows: number): Promise<void> {
  await writeAtomic(path, encodeNpy(data, [rows, rows === 0 ? 0 : data.length / rows]));
}

export function readFeatures(path: string): { data: Float32Array; rows: number; dim: number } {
  if (!existsSync(path)) throw new Error(`missing features file ${path}; run the stage that writes it first.`);
  let parsed: { shape: number[]; data: Float32Array };
  try {
    parsed = decodeNpy(readFileSync(path));
  } catch (e) {
    throw new Error(`${path} is corrupted (${e instanceof Error ? e.message : String(e)}); delete it and re-run its stage.`);
  }
  if (parsed.shape.length !== 2) throw new Error(`${path}: expected a [rows, dim] matrix, got shape [${parsed.shape.join(", ")}].`);
  return { data: parsed.data, rows: parsed.shape[0] as number, dim: parsed.shape[1] as number };
}
