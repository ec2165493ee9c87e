// The run a page URL asks for (`?n=16&seed=0&nfe=20&sampler=heun&backend=wasm&view=x`), checked; pure, so that it is
// tested in Node.
import { SAMPLER_NAMES, samplerCatalogue, type SamplerName } from "@dale/samplers";

/** The tfjs backends the page can be asked to prefer. */
export const PAGE_BACKENDS = ["webgpu", "webgl", "wasm", "cpu"] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

export interface RunSettings {
  n: number;
  seed: number;
  /** Network evaluations per image; the sampler takes the most steps that fit. */
  nfe: number;
  /** null: the checkpoint's default solver. */
  sampler: SamplerName | null;
  /** null: initBackend's order (WebGPU, WebGL, wasm, cpu). */
  backend: PageBackend | null;
  view: "x" | "denoised";
}

export const DEFAULT_SETTINGS: RunSettings = { n: 16, seed: 0, nfe: 20, sampler: null, backend: null, view: "x" };

/** The samplers that serve a GBM checkpoint: the multiplicative reference samplers and every solver. */
export const GBM_SAMPLERS: readonly SamplerName[] = SAMPLER_NAMES.filter((name) => samplerCatalogue[name].family !== "additive");

/** Parses a query string; a bad value is an error that names the parameter and what it accepts. */
export function parseSettings(search: string): RunSettings {
  const q = new URLSearchParams(search);
  const out: RunSettings = { ...DEFAULT_SETTINGS };
  const int = (key: "n" | "seed" | "nfe", min: number, max: number) => {
    const raw = q.get(key);
    if (raw === null) return;
    const v = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(v) || v < min || v > max) throw new Error(`?${key}= must be an integer from ${min} to ${max}, got "${raw}".`);
    out[key] = v;
  };
  int("n", 1, 64);
  int("seed", -(2 ** 31), 2 ** 31 - 1);
  int("nfe", 1, 1000);
  const sampler = q.get("sampler");
  if (sampler !== null) {
    if (!(GBM_SAMPLERS as readonly string[]).includes(sampler)) throw new Error(`?sampler= must be one of ${GBM_SAMPLERS.join(", ")}, got "${sampler}".`);
    out.sampler = sampler as SamplerName;
  }
  const backend = q.get("backend");
  if (backend !== null) {
    if (!(PAGE_BACKENDS as readonly string[]).includes(backend)) throw new Error(`?backend= must be one of ${PAGE_BACKENDS.join(", ")}, got "${backend}".`);
    out.backend = backend as PageBackend;
  }
  const view = q.get("view");
  if (view !== null) {
    if (view !== "x" && view !== "denoised") throw new Error(`?view= must be x or denoised, got "${view}".`);
    out.view = view;
  }
  return out;
}
