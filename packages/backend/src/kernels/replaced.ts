import type * as tf from "@tensorflow/tfjs-core";
import { replacedConvGradKernels } from "./conv-grad";
import { replacedOneDnnKernels } from "./onednn";
import { replacedResizeNearestNeighborGrad } from "./resize-nearest-grad";
import { replacedWasmKernels } from "./wasm-kernels";

/**
 * Every kernel of a backend that Dale has replaced, by kernel name, with the backend's own implementation (undefined
 * where the backend had none, as wasm's Conv2DBackpropFilter). Lists what `initBackend()` and the imports of
 * `@dale/backend` changed, for reports and before/after benchmarks.
 *
 * @example
 * Object.keys(replacedKernels("wasm")); // ["Conv2DBackpropInput", "Conv2DBackpropFilter", "Add", ..., "BatchMatMul", "ResizeNearestNeighborGrad"]
 */
export function replacedKernels(backendName: string): Record<string, tf.KernelFunc | undefined> {
  const out: Record<string, tf.KernelFunc | undefined> = {};
  const conv = replacedConvGradKernels(backendName);
  if ("input" in conv || "filter" in conv) {
    out.Conv2DBackpropInput = conv.input;
    out.Conv2DBackpropFilter = conv.filter;
  }
  if (backendName === "wasm") Object.assign(out, replacedWasmKernels(), replacedOneDnnKernels());
  const resize = replacedResizeNearestNeighborGrad(backendName);
  if (resize !== undefined) out.ResizeNearestNeighborGrad = resize;
  return out;
}
