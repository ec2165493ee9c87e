// The playground page: loads the committed MNIST GBM checkpoint with fromPretrained and samples it live, redrawing the
// grid after every network evaluation. Test hooks: the button data-testid="sample", the canvas data-testid="grid",
// document.body.dataset.state ("loading", "ready", "running", "done", "error") and window.daleRun (the last run).
import "@tensorflow/tfjs-backend-webgl";
import "@tensorflow/tfjs-backend-webgpu";
import { initBackend } from "@dale/backend";
import { fromPretrained, type PretrainedPipeline, type PretrainedProgress } from "@dale/models";
import { samplerCatalogue, type SamplerName } from "@dale/samplers";
import type * as tf from "@tensorflow/tfjs-core";
import { gridColumns, tileRgba } from "./grid";
import { GBM_SAMPLERS, parseSettings, type RunSettings } from "./settings";

/** What the last finished run left for tests and the console. */
export interface DaleRun {
  backend: string;
  sampler: SamplerName;
  steps: number;
  nfe: number;
  n: number;
  seed: number;
  shape: [number, number, number, number];
  /** The images, row-major [n, height, width, channels] in [0, 1]. */
  images: number[];
  /** Grid redraws during the run (one per network evaluation that was not dropped while a redraw was pending). */
  frames: number;
  msPerEvaluation: number;
  seconds: number;
}

declare global {
  interface Window {
    daleRun?: DaleRun;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  form: $<HTMLFormElement>("controls"),
  sampler: $<HTMLSelectElement>("sampler"),
  nfe: $<HTMLInputElement>("nfe"),
  n: $<HTMLInputElement>("n"),
  seed: $<HTMLInputElement>("seed"),
  view: $<HTMLSelectElement>("view"),
  sample: $<HTMLButtonElement>("sample"),
  stop: $<HTMLButtonElement>("stop"),
  grid: $<HTMLCanvasElement>("grid"),
  status: $<HTMLParagraphElement>("status"),
  backend: $<HTMLParagraphElement>("backend"),
};

function setState(state: "loading" | "ready" | "running" | "done" | "error", message: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = message;
}

function draw(values: ArrayLike<number>, shape: [number, number, number, number]): void {
  const { data, width, height } = tileRgba(values, shape, gridColumns(shape[0]));
  if (ui.grid.width !== width || ui.grid.height !== height) [ui.grid.width, ui.grid.height] = [width, height];
  const ctx = ui.grid.getContext("2d");
  if (ctx === null) throw new Error("playground: the grid canvas has no 2d context.");
  ctx.putImageData(new ImageData(data, width, height), 0, 0);
}

/** The form's settings, checked by the same parser as the query string. */
function formSettings(base: RunSettings): RunSettings {
  const q = new URLSearchParams({ n: ui.n.value, seed: ui.seed.value, nfe: ui.nfe.value, sampler: ui.sampler.value, view: ui.view.value });
  return { ...parseSettings(`?${q.toString()}`), backend: base.backend };
}

async function run(pipe: PretrainedPipeline, settings: RunSettings, backend: string, signal: AbortSignal): Promise<DaleRun> {
  // The pipeline turns the NFE budget into steps, counting both networks where the checkpoint's guide runs.
  const { sampler, steps, nfe } = pipe.plan({ ...(settings.sampler ? { sampler: settings.sampler } : {}), nfe: settings.nfe });
  const [h, w, c] = pipe.config.shape;
  const t0 = performance.now();
  let last = t0;
  let perEvaluation = 0;
  let frames = 0;
  let pending = false;
  const onProgress = (p: PretrainedProgress) => {
    const now = performance.now();
    perEvaluation = now - last;
    last = now;
    ui.status.textContent = `${sampler}: evaluation ${p.nfe} of ${p.totalNfe} (${steps} steps) · ${perEvaluation.toFixed(0)} ms per evaluation · ${((now - t0) / 1000).toFixed(1)} s`;
    if (pending) return; // the previous redraw is still reading its pixels back: drop this frame
    const view = settings.view === "denoised" && p.denoised ? p.denoised() : p.x();
    pending = true;
    void view
      .data()
      .then((values) => {
        if (!signal.aborted && document.body.dataset.state === "running") draw(values, [p.batchSize, h, w, c]);
        frames++;
      })
      .catch((err: unknown) => console.error(`playground: reading the grid of evaluation ${p.nfe} failed`, err))
      .finally(() => {
        view.dispose();
        pending = false;
      });
  };
  const images: tf.Tensor4D = await pipe.sample({ n: settings.n, seed: settings.seed, sampler, steps, batch: settings.n, onProgress, signal });
  let values: Float32Array;
  try {
    values = (await images.data()) as Float32Array;
  } finally {
    images.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const shape: [number, number, number, number] = [settings.n, h, w, c];
  draw(values, shape);
  return { backend, sampler, steps, nfe, n: settings.n, seed: settings.seed, shape, images: Array.from(values), frames, msPerEvaluation: (seconds * 1000) / nfe, seconds };
}

async function main(): Promise<void> {
  const settings = parseSettings(location.search);
  setState("loading", "Starting tfjs…");
  const choice = await initBackend({ ...(settings.backend ? { prefer: settings.backend } : {}), wasmPaths: new URL("./wasm/", location.href).href });
  document.body.dataset.backend = choice.backend;
  ui.backend.textContent = `tfjs backend: ${choice.backend}${choice.skipped.length ? ` (skipped: ${choice.skipped.map((s) => `${s.name}, ${s.reason}`).join("; ")})` : ""}`;
  setState("loading", "Loading the checkpoint…");
  const pipe = await fromPretrained("./mnist-gbm/");
  for (const name of GBM_SAMPLERS) {
    const entry = samplerCatalogue[name];
    ui.sampler.add(new Option(`${name} (${entry.kind === "solver" ? entry.nfePerStep : "reference"})`, name));
  }
  ui.sampler.value = settings.sampler ?? pipe.config.sampler.name;
  ui.nfe.value = String(settings.nfe);
  ui.n.value = String(settings.n);
  ui.seed.value = String(settings.seed);
  ui.view.value = settings.view;
  let controller: AbortController | null = null;
  ui.stop.addEventListener("click", () => controller?.abort(new Error("stopped")));
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (controller !== null) return;
    let current: RunSettings;
    try {
      current = formSettings(settings);
    } catch (err) {
      setState("ready", err instanceof Error ? err.message : String(err));
      return;
    }
    controller = new AbortController();
    ui.sample.disabled = true;
    ui.stop.disabled = false;
    setState("running", "Sampling…");
    run(pipe, current, choice.backend, controller.signal)
      .then((result) => {
        window.daleRun = result;
        setState("done", `${result.sampler}, ${result.steps} steps, NFE ${result.nfe}: ${result.n} images in ${result.seconds.toFixed(1)} s (${result.msPerEvaluation.toFixed(0)} ms per evaluation of the batch) on ${result.backend}.`);
      })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (message === "stopped") setState("ready", "Stopped.");
        else fail(err);
      })
      .finally(() => {
        controller = null;
        ui.sample.disabled = false;
        ui.stop.disabled = true;
      });
  });
  ui.sample.disabled = false;
  setState("ready", `Ready: ${pipe.config.model.kind} at step ${pipe.config.step}, default ${pipe.config.sampler.name}${pipe.config.sampler.guidance ? `, autoguided by its step-${pipe.config.sampler.guidance.step} checkpoint (w ${pipe.config.sampler.guidance.weight})` : ""}. Press Sample.`);
}

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  document.body.dataset.error = message;
  setState("error", `Error: ${message}`);
  console.error(err);
}

main().catch(fail);
