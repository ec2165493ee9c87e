import type * as NodeOs from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { BACKENDS, type BackendName } from "./backends";
import "./gradients";
import { registerConvGradKernels } from "./kernels/conv-grad";
import { registerWasmKernels } from "./kernels/wasm-kernels";
import { registerOneDnnKernels, type OneDnnAddon } from "./kernels/onednn";
import { installThreadedWasm, wasmThreads } from "./wasm-threads";

// Fast kernels serve plain tf.conv2d and its gradients on the backends that need them, whoever calls setBackend; on
// wasm also broadcasting element-wise ops, reductions over outer axes and batched matrix products.
registerConvGradKernels("wasm");
registerWasmKernels();

/** Where the wasm backend finds its `.wasm` files: a folder URL ending in "/", or one URL per file (tfjs' `setWasmPaths`). */
export type WasmPaths = Parameters<typeof setWasmPaths>[0];

export interface InitBackendOptions {
  /** Try this backend first; the rest follow in the usual order. `DALE_BACKEND` in the environment wins over it. */
  prefer?: BackendName;
  /** Print the choice and the reasons to the console. Default false. */
  verbose?: boolean;
  /**
   * Where the wasm backend fetches its `.wasm` files, set before it starts (tfjs' `setWasmPaths`). In a browser a
   * bundler does not copy them: serve `node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm` and give their folder
   * (ending in "/"), or a CDN's, e.g. "https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/dist/".
   * Node finds them by itself. Ignored once the wasm backend has started.
   */
  wasmPaths?: WasmPaths;
  /**
   * XNNPACK threads of the wasm backend in Node (tfjs' multi-threaded build, which tfjs itself never starts in Node).
   * Default: `DALE_WASM_THREADS` from the environment, else `os.availableParallelism()`. 1: tfjs' single-threaded
   * build. Fixed once the wasm backend has started. In a browser tfjs decides (threads need a cross-origin-isolated
   * page).
   */
  threads?: number;
  /**
   * On wasm in Node: run the convolutions (forward and both gradients) and batched matrix products through oneDNN
   * when the optional native addon
   * `@dale/onednn` is installed and built. Default true; `DALE_ONEDNN=0` in the environment turns it off.
   */
  onednn?: boolean;
}

export interface BackendChoice {
  /** The backend now active, as `tf.getBackend()` names it. */
  backend: string;
  /** Why each backend tried before it was skipped. */
  skipped: { name: BackendName; reason: string }[];
  /** On wasm: its XNNPACK thread count. */
  threads?: number;
  /** On wasm in Node, when more threads were asked for than it runs: why. */
  threadsNote?: string;
  /** On wasm in Node: oneDNN's version when its convolutions are in use, else why not. */
  onednn?: { version: string; threads: number } | { reason: string };
}

/**
 * Chooses the fastest tfjs backend that works here, activates it, and says why each faster one was skipped.
 *
 * Order: tfjs-node-gpu, tfjs-node (Node only; optional peers, used only when installed), WebGPU, WebGL (a browser
 * only), wasm, cpu. In Node, WebGPU comes from Dawn's `webgpu` package and `@tensorflow/tfjs-backend-webgpu` (optional
 * peers, loaded when installed); in a browser from `navigator.gpu`, once the page has imported
 * `@tensorflow/tfjs-backend-webgpu` (a bundler cannot include an optional package by itself). `DALE_BACKEND=<name>`
 * in Node's environment forces one backend and fails loudly if it cannot start.
 *
 * @example
 * import { initBackend } from "@dale/backend";
 * const { backend, skipped } = await initBackend();
 * // in a browser, with the wasm files served from a CDN:
 * await initBackend({ wasmPaths: "https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/dist/" });
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  // Checked first, so that a bad thread count fails loudly instead of making the wasm backend look unusable.
  const threads = inNode() ? await threadsWanted(options) : 1;
  options = { ...options, threads };
  // What starting the wasm backend had to say about its threads, for the choice returned.
  const notes: StartNotes = { threads: null };
  const forced = globalThis.process?.env?.DALE_BACKEND;
  if (forced !== undefined && forced !== "") {
    if (!(BACKENDS as readonly string[]).includes(forced)) {
      throw new Error(`initBackend: DALE_BACKEND must be one of ${BACKENDS.join(", ")}, got "${forced}".`);
    }
    const reason = await tryBackend(forced as BackendName, options, notes);
    if (reason !== null) throw new Error(`initBackend: DALE_BACKEND=${forced} cannot start: ${reason}`);
    return report(await withNative({ backend: tf.getBackend(), skipped: [] }, options, notes), options.verbose);
  }
  const order = options.prefer ? [options.prefer, ...BACKENDS.filter((b) => b !== options.prefer)] : [...BACKENDS];
  const skipped: BackendChoice["skipped"] = [];
  for (const name of order) {
    const reason = await tryBackend(name, options, notes);
    if (reason === null) return report(await withNative({ backend: tf.getBackend(), skipped }, options, notes), options.verbose);
    skipped.push({ name, reason });
  }
  throw new Error(`initBackend: no tfjs backend could start:\n${skipped.map((s) => `  ${s.name}: ${s.reason}`).join("\n")}`);
}

/** Whether this is Node (not a browser, nor a bundle of it with a `process` shim). */
function inNode(): boolean {
  return typeof globalThis.process?.versions?.node === "string";
}

/**
 * Imports an optional peer package in Node. The name is a variable so that a browser bundler leaves the import alone
 * (these packages are Node's: native bindings, Dawn), instead of failing when they are not installed.
 */
/**
 * Where the Vulkan loader `libvulkan.so.1` is on Linux (the folders of LD_LIBRARY_PATH, then the usual library
 * folders), or null when there is none and VK_ICD_FILENAMES is unset. Elsewhere (macOS, Windows), and when
 * VK_ICD_FILENAMES names a driver, Dawn needs no such file: "".
 */
export async function vulkanLoaderPath(): Promise<string | null> {
  const env = globalThis.process?.env ?? {};
  if (globalThis.process?.platform !== "linux" || (env.VK_ICD_FILENAMES ?? "") !== "") return "";
  const { existsSync } = (await importOptional("node:fs")) as { existsSync: (p: string) => boolean };
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== ""),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/usr/local/lib",
  ];
  for (const dir of dirs) {
    const path = `${dir}/libvulkan.so.1`;
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * The Vulkan driver manifests (ICD JSON files) the Vulkan loader would find on Linux: "" when VK_ICD_FILENAMES or
 * VK_DRIVER_FILES names them, else the `.json` files in the `vulkan/icd.d` folders of XDG_CONFIG_HOME, XDG_CONFIG_DIRS
 * (default /etc/xdg), /etc, XDG_DATA_HOME and XDG_DATA_DIRS (default /usr/local/share:/usr/share), as the loader
 * searches them. A loader without any driver can offer Dawn no adapter, and makes Dawn print warnings.
 */
export async function vulkanDriverManifests(): Promise<string[] | ""> {
  const env = globalThis.process?.env ?? {};
  if ((env.VK_ICD_FILENAMES ?? "") !== "" || (env.VK_DRIVER_FILES ?? "") !== "") return "";
  const { existsSync, readdirSync } = (await importOptional("node:fs")) as { existsSync: (p: string) => boolean; readdirSync: (p: string) => string[] };
  const home = env.HOME ?? "";
  const list = (v: string | undefined, fallback: string) => (v && v !== "" ? v : fallback).split(":").filter((d) => d !== "");
  const bases = [
    env.XDG_CONFIG_HOME || `${home}/.config`,
    ...list(env.XDG_CONFIG_DIRS, "/etc/xdg"),
    "/etc",
    env.XDG_DATA_HOME || `${home}/.local/share`,
    ...list(env.XDG_DATA_DIRS, "/usr/local/share:/usr/share"),
  ];
  const found: string[] = [];
  for (const base of bases) {
    const dir = `${base}/vulkan/icd.d`;
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith(".json")) found.push(`${dir}/${f}`);
  }
  return found;
}

async function importOptional(pkg: string): Promise<unknown> {
  return import(/* @vite-ignore */ pkg);
}

/** What starting a backend noted for the choice that {@link initBackend} returns. */
interface StartNotes {
  /** On wasm in Node: why fewer threads run than were asked for. */
  threads: string | null;
}

async function tryBackend(name: BackendName, options: InitBackendOptions, notes: StartNotes): Promise<string | null> {
  try {
    switch (name) {
      case "tensorflow-gpu":
      case "tensorflow": {
        const pkg = name === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
        if (!inNode()) return `${pkg} runs only in Node`;
        try {
          await importOptional(pkg);
        } catch (e) {
          return `${pkg} is not installed or failed to load (${firstLine(e)})`;
        }
        break;
      }
      case "webgpu": {
        const asked = globalThis.process?.env?.DALE_BACKEND === "webgpu" || options.prefer === "webgpu";
        const reason = await prepareWebGPU(asked);
        if (reason !== null) return reason;
        break;
      }
      case "webgl":
        // tfjs registers its webgl backend (through the @tensorflow/tfjs import of gradients.ts) only in a browser.
        if (tf.findBackendFactory("webgl") === null) return "no WebGL here: tfjs' webgl backend registers itself only in a browser";
        break;
      case "wasm":
        if (options.wasmPaths !== undefined) {
          try {
            setWasmPaths(options.wasmPaths);
          } catch (e) {
            return `setWasmPaths: ${firstLine(e)}`;
          }
        }
        if (inNode()) {
          const threads = options.threads ?? 1;
          const why = await installThreadedWasm(threads);
          notes.threads = why === null ? null : `${threads} wasm thread(s) asked for: ${why}`;
        }
        break;
      case "cpu":
        break;
    }
    const backendName = name === "tensorflow-gpu" ? "tensorflow" : name;
    if (!(await tf.setBackend(backendName))) return `tf.setBackend("${backendName}") returned false`;
    await tf.ready();
    return null;
  } catch (e) {
    return firstLine(e);
  }
}

/** The wasm thread count asked for in Node: the option, else DALE_WASM_THREADS, else the cores Node may use. */
async function threadsWanted(options: InitBackendOptions): Promise<number> {
  const fromEnv = globalThis.process?.env?.DALE_WASM_THREADS;
  const asked = options.threads ?? (fromEnv !== undefined && fromEnv !== "" ? Number(fromEnv) : undefined);
  if (asked !== undefined) {
    if (!Number.isInteger(asked) || asked < 1 || asked > 64) {
      const where = options.threads !== undefined ? "options.threads" : "DALE_WASM_THREADS";
      throw new Error(`initBackend: ${where} must be an integer in [1, 64], got ${String(options.threads ?? fromEnv)}.`);
    }
    return asked;
  }
  const os = (await importOptional("node:os")) as typeof NodeOs;
  return Math.min(64, Math.max(1, os.availableParallelism()));
}

/** Adds the wasm thread count and, in Node, oneDNN's convolutions (registered here) to a choice of wasm. */
async function withNative(choice: BackendChoice, options: InitBackendOptions, notes: StartNotes): Promise<BackendChoice> {
  if (choice.backend !== "wasm") return choice;
  const threads = wasmThreads();
  const out: BackendChoice = { ...choice, ...(threads !== null ? { threads } : {}), ...(notes.threads !== null ? { threadsNote: notes.threads } : {}) };
  if (!inNode()) return out;
  const off = options.onednn === false || globalThis.process?.env?.DALE_ONEDNN === "0";
  if (off) return { ...out, onednn: { reason: options.onednn === false ? "turned off (options.onednn false)" : "turned off (DALE_ONEDNN=0)" } };
  let mod: { loadOneDnn(): { ok: true; onednn: OneDnnAddon; version: string } | { ok: false; reason: string } };
  try {
    mod = (await importOptional("@dale/onednn")) as typeof mod;
  } catch (e) {
    return { ...out, onednn: { reason: `@dale/onednn is not installed (${firstLine(e)})` } };
  }
  const loaded = mod.loadOneDnn();
  if (!loaded.ok) return { ...out, onednn: { reason: loaded.reason } };
  loaded.onednn.setThreads(options.threads ?? 1);
  registerOneDnnKernels(loaded.onednn);
  return { ...out, onednn: { version: loaded.version, threads: loaded.onednn.threads() } };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}

function report(choice: BackendChoice, verbose?: boolean): BackendChoice {
  if (verbose) {
    console.log(`[dale] tfjs backend: ${choice.backend}${choice.threads !== undefined ? ` (${choice.threads} thread${choice.threads === 1 ? "" : "s"})` : ""}`);
    if (choice.threadsNote !== undefined) console.log(`[dale]   ${choice.threadsNote}`);
    if (choice.onednn !== undefined) {
      console.log(`[dale]   convolutions and matMul: ${"version" in choice.onednn ? `oneDNN ${choice.onednn.version}, ${choice.onednn.threads} thread(s)` : `wasm (no oneDNN: ${choice.onednn.reason})`}`);
    }
    for (const s of choice.skipped) console.log(`[dale]   skipped ${s.name}: ${s.reason}`);
  }
  return choice;
}

/**
 * Makes WebGPU available to tfjs: `navigator.gpu` in a browser, or Dawn's `webgpu` package in Node (an optional peer,
 * like `@tensorflow/tfjs-backend-webgpu`). Registers Dale's convolution-gradient kernels for it. Returns why it
 * cannot, or null.
 */
async function prepareWebGPU(asked: boolean): Promise<string | null> {
  const g = globalThis as { navigator?: { gpu?: GPULike } };
  if (!g.navigator?.gpu && inNode()) {
    // Without a Vulkan loader, or with a loader but no driver, Dawn on Linux can offer no adapter, and loading it prints
    // warnings on every run; it is loaded anyway when WebGPU is asked for (DALE_BACKEND=webgpu, prefer, or
    // VK_ICD_FILENAMES).
    if (!asked && (await vulkanLoaderPath()) === null) {
      return "no Vulkan loader (libvulkan.so.1) on this Linux machine, so Dawn has no GPU adapter to offer; DALE_BACKEND=webgpu tries it anyway";
    }
    if (!asked && globalThis.process?.platform === "linux") {
      const drivers = await vulkanDriverManifests();
      if (drivers !== "" && drivers.length === 0) {
        return "a Vulkan loader but no Vulkan driver (no ICD manifest in any vulkan/icd.d folder) on this Linux machine, so Dawn has no GPU adapter to offer; DALE_BACKEND=webgpu tries it anyway";
      }
    }
    try {
      const dawn = (await importOptional("webgpu")) as { create: (o: string[]) => GPULike; globals: object };
      Object.assign(globalThis, dawn.globals);
      const gpu = dawn.create([]);
      if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
      else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
    } catch (e) {
      return `Dawn's webgpu package is not installed or failed to load (${firstLine(e)})`;
    }
  }
  const gpu = g.navigator?.gpu;
  if (!gpu) return "no navigator.gpu here";
  const adapter = await gpu.requestAdapter();
  if (!adapter) return "navigator.gpu.requestAdapter() found no GPU adapter";
  if (tf.findBackendFactory("webgpu") === null) {
    if (!inNode()) return `tfjs' webgpu backend is not loaded: import "@tensorflow/tfjs-backend-webgpu" once in the page to use it`;
    try {
      await importOptional("@tensorflow/tfjs-backend-webgpu");
    } catch (e) {
      return `@tensorflow/tfjs-backend-webgpu is not installed or failed to load (${firstLine(e)})`;
    }
  }
  registerConvGradKernels("webgpu");
  return null;
}

interface GPULike {
  requestAdapter(): Promise<unknown>;
}
