// Which of @dale/backend's kernels a measurement uses: for before/after figures, in the main thread and in the shards.
import { registerConvGradKernels, registerWasmKernels, unregisterConvGradKernels, unregisterWasmKernels } from "@dale/backend";

/**
 * Which of @dale/backend's kernels run: all of them (`dale`), only its convolution-gradient kernels (`conv-grad`,
 * i.e. without the wasm element-wise, reduction and matrix-product kernels: the figures before them), or none
 * (`tfjs`, the backend as shipped; wasm then cannot train conv nets).
 */
export const KERNEL_SETS = ["dale", "conv-grad", "tfjs"] as const;
export type KernelSet = (typeof KERNEL_SETS)[number];

/**
 * Puts the backend's own kernels back as `kernels` asks, or Dale's (as `initBackend` registers them: on wasm and
 * WebGPU) for `dale`. In this thread; shards do it in theirs.
 */
export function selectKernels(backend: string, kernels: KernelSet): void {
  if (kernels === "dale") {
    if (backend === "wasm") registerWasmKernels();
    if (backend === "wasm" || backend === "webgpu") registerConvGradKernels(backend);
    return;
  }
  if (backend === "wasm") unregisterWasmKernels();
  if (kernels === "tfjs") unregisterConvGradKernels(backend);
  else if (backend === "wasm" || backend === "webgpu") registerConvGradKernels(backend);
}

