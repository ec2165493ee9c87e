export { initBackend, BACKENDS, type BackendName, type BackendChoice, type InitBackendOptions } from "./init";
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
export { replacedKernels } from "./kernels/replaced";
export { Adam, adam } from "./adam";
export { dataParallel, type DataParallel, type DataParallelOptions, type DataParallelShard } from "./parallel";
