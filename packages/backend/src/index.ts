export { initBackend, BACKENDS, type BackendName, type BackendChoice, type InitBackendOptions } from "./init";
export { gradientsRegistered } from "./gradients";
export { registerConvGradKernels } from "./kernels/conv_grad";
