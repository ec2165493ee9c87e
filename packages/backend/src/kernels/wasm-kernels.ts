import * as tf from "@tensorflow/tfjs-core";
import { broadcastBinaryKernel } from "./wasm-binary";
import { concatKernel, sharedIdentityKernel, sliceKernel, splitVKernel } from "./wasm-copy";
import { batchMatMulKernel } from "./wasm-matmul";
import { reduceKernel } from "./wasm-reduce";

/** The wasm kernels Dale replaces (each falls back to tfjs' own outside its fast cases). */
export const WASM_KERNELS = [
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "SquaredDifference",
  "Sum",
  "Mean",
  "BatchMatMul",
  "Identity",
  "Cast",
  "Slice",
  "SplitV",
  "Concat",
] as const;
export type WasmKernelName = (typeof WASM_KERNELS)[number];

const BACKEND = "wasm";
/** tfjs' own configs, kept while Dale's are registered. */
const installed = new Map<WasmKernelName, tf.KernelConfig>();

function makeKernel(name: WasmKernelName, original: tf.KernelFunc): tf.KernelFunc {
  switch (name) {
    case "Add":
    case "Sub":
    case "Multiply":
    case "RealDiv":
    case "SquaredDifference":
      return broadcastBinaryKernel(original);
    case "Sum":
    case "Mean":
      return reduceKernel(name, original, BACKEND);
    case "BatchMatMul":
      return batchMatMulKernel(original, BACKEND);
    case "Identity":
    case "Cast":
      return sharedIdentityKernel(original, name);
    case "Slice":
      return sliceKernel(original);
    case "SplitV":
      return splitVKernel(original);
    case "Concat":
      return concatKernel(original);
  }
}

/**
 * Registers Dale's element-wise, reduction and matrix-product kernels for tfjs' wasm backend, over tfjs' own (which
 * they call for the work itself and fall back to outside their fast cases), so that any network made of plain tfjs
 * ops, and its gradients, run through them:
 *
 * - Add, Sub, Multiply, RealDiv, SquaredDifference: broadcasting with a short innermost run (group norm's
 *   `x - mean`, `/ std`) is 10 to 25 times faster (`broadcastBinaryKernel`).
 * - Sum, Mean over axes that are not innermost, with transposes of rank at most 3 (`reduceKernel`).
 * - BatchMatMul with a batch or transposes, through XNNPACK per item (`batchMatMulKernel`).
 * - Identity and same-dtype Cast share the input's data instead of copying it (`sharedIdentityKernel`); Slice,
 *   SplitV and Concat copy contiguous runs within the heap (`sliceKernel`, `splitVKernel`, `concatKernel`).
 *
 * Each keeps tfjs' `setupFunc` (which binds its C function when the backend starts), so registering before or after
 * `tf.setBackend("wasm")` both work. Idempotent unless `force`; `kernels` picks a subset (default: all).
 */
export function registerWasmKernels(options: { kernels?: readonly WasmKernelName[]; force?: boolean } = {}): void {
  const names = options.kernels ?? WASM_KERNELS;
  for (const name of names) {
    if (!(WASM_KERNELS as readonly string[]).includes(name)) {
      throw new Error(`registerWasmKernels: kernels must be among ${WASM_KERNELS.join(", ")}, got "${String(name)}".`);
    }
  }
  for (const name of names) {
    if (installed.has(name) && !options.force) continue;
    const original = installed.get(name) ?? tf.getKernel(name, BACKEND);
    if (original === undefined) continue; // tfjs-backend-wasm is not loaded
    if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      kernelFunc: makeKernel(name, original.kernelFunc),
      ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
      ...(original.disposeFunc ? { disposeFunc: original.disposeFunc } : {}),
    });
    installed.set(name, original);
  }
}

/** Puts tfjs' own wasm kernels back in place of those {@link registerWasmKernels} registered (for before/after figures). */
export function unregisterWasmKernels(): void {
  for (const [name, original] of installed) {
    if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  installed.clear();
}

/** tfjs' own wasm kernels that {@link registerWasmKernels} replaced, by name (for benchmarks and tests). */
export function replacedWasmKernels(): Partial<Record<WasmKernelName, tf.KernelFunc>> {
  return Object.fromEntries([...installed].map(([name, config]) => [name, config.kernelFunc]));
}
