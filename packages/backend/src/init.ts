import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import "./gradients";
import { registerConvGradKernels } from "./kernels/conv-grad";
import { registerWasmKernels } from "./kernels/wasm-kernels";

// Fast kernels serve plain tf.conv2d and its gradients on the backends that need them, whoever calls setBackend; on
// wasm also broadcasting element-wise ops, reductions over outer axes and batched matrix products.
registerConvGradKernels("wasm");
registerWasmKernels();

/** The backends Dale knows, fastest first. */
export const BACKENDS = ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface InitBackendOptions {
  /** Try this backend first; the rest follow in the usual order. `DALE_BACKEND` in the environment wins over it. */
  prefer?: BackendName;
  /** Print the choice and the reasons to the console. Default false. */
  verbose?: boolean;
}

export interface BackendChoice {
  /** The backend now active, as `tf.getBackend()` names it. */
  backend: string;
  /** Why each backend tried before it was skipped. */
  skipped: { name: BackendName; reason: string }[];
}

/**
 * Chooses the fastest tfjs backend that works here, activates it, and says why each faster one was skipped.
 *
 * Order: tfjs-node-gpu, tfjs-node (both optional peers, used only when installed), WebGPU, wasm, cpu.
 * `DALE_BACKEND=<name>` forces one backend and fails loudly if it cannot start.
 *
 * @example
 * import { initBackend } from "@dale/backend";
 * const { backend, skipped } = await initBackend();
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const forced = globalThis.process?.env?.DALE_BACKEND;
  if (forced !== undefined && forced !== "") {
    if (!(BACKENDS as readonly string[]).includes(forced)) {
      throw new Error(`initBackend: DALE_BACKEND must be one of ${BACKENDS.join(", ")}, got "${forced}".`);
    }
    const reason = await tryBackend(forced as BackendName);
    if (reason !== null) throw new Error(`initBackend: DALE_BACKEND=${forced} cannot start: ${reason}`);
    return report({ backend: tf.getBackend(), skipped: [] }, options.verbose);
  }
  const order = options.prefer ? [options.prefer, ...BACKENDS.filter((b) => b !== options.prefer)] : [...BACKENDS];
  const skipped: BackendChoice["skipped"] = [];
  for (const name of order) {
    const reason = await tryBackend(name);
    if (reason === null) return report({ backend: tf.getBackend(), skipped }, options.verbose);
    skipped.push({ name, reason });
  }
  throw new Error(`initBackend: no tfjs backend could start:\n${skipped.map((s) => `  ${s.name}: ${s.reason}`).join("\n")}`);
}

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    switch (name) {
      case "tensorflow-gpu":
      case "tensorflow": {
        const pkg = name === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
        try {
          await import(/* @vite-ignore */ pkg);
        } catch (e) {
          return `${pkg} is not installed or failed to load (${firstLine(e)})`;
        }
        break;
      }
      case "webgpu": {
        const reason = await prepareWebGPU();
        if (reason !== null) return reason;
        break;
      }
      case "wasm":
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

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}

function report(choice: BackendChoice, verbose?: boolean): BackendChoice {
  if (verbose) {
    console.log(`[dale] tfjs backend: ${choice.backend}`);
    for (const s of choice.skipped) console.log(`[dale]   skipped ${s.name}: ${s.reason}`);
  }
  return choice;
}

/**
 * Makes WebGPU available to tfjs: `navigator.gpu` in a browser, or Dawn's `webgpu` package in Node (an optional peer,
 * like `@tensorflow/tfjs-backend-webgpu`). Registers Dale's convolution-gradient kernels for it. Returns why it
 * cannot, or null.
 */
async function prepareWebGPU(): Promise<string | null> {
  const g = globalThis as { navigator?: { gpu?: GPULike } };
  if (!g.navigator?.gpu && globalThis.process?.versions?.node) {
    try {
      const dawn = (await import(/* @vite-ignore */ "webgpu")) as { create: (o: string[]) => GPULike; globals: object };
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
  try {
    await import(/* @vite-ignore */ "@tensorflow/tfjs-backend-webgpu");
  } catch (e) {
    return `@tensorflow/tfjs-backend-webgpu is not installed or failed to load (${firstLine(e)})`;
  }
  registerConvGradKernels("webgpu");
  return null;
}

interface GPULike {
  requestAdapter(): Promise<unknown>;
}
