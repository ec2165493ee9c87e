export { initBackend, vulkanDriverManifests, vulkanLoaderPath, type BackendChoice, type InitBackendOptions, type WasmPaths } from "./init";
export { BACKENDS, type BackendName } from "./backends";
export { gradientsRegistered } from "./gradients";
export { registerConvGradKernels, replacedConvGradKernels, unregisterConvGradKernels } from "./kernels/conv-grad";
export {
  registerWasmKernels,
  replacedWasmKernels,
  unregisterWasmKernels,
  WASM_KERNELS,
  type WasmKernelName,
} from "./kernels/wasm-kernels";
export {
  registerResizeNearestNeighborGrad,
  RESIZE_NEAREST_GRAD_BACKENDS,
  unregisterResizeNearestNeighborGrad,
  type ResizeNearestGradVia,
} from "./kernels/resize-nearest-grad";
export { ONEDNN_KERNELS, registerOneDnnKernels, replacedOneDnnKernels, unregisterOneDnnKernels, type OneDnnAddon } from "./kernels/onednn";
export { installThreadedWasm, threadedWasmInstalled, wasmThreads } from "./wasm-threads";
export { replacedKernels } from "./kernels/replaced";
export { Adam, adam } from "./adam";
// dataParallel (worker threads) is in @dale/backend/node.
