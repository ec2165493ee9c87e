export { initBackend, BACKENDS, type BackendName, type BackendChoice, type InitBackendOptions } from "./init";
export { gradientsRegistered } from "./gradients";
export { registerConvGradKernels, replacedConvGradKernels, unregisterConvGradKernels } from "./kernels/conv_grad";
export { Adam, adam } from "./adam";
export { dataParallel, type DataParallel, type DataParallelOptions, type DataParallelShard } from "./parallel";
