import { application } from "@dale/tsup-config";

// `gpu-entry` is the same CLI with WebGPU preferred; ../shared/gpu/pack.sh bundles src/gpu-entry.ts itself for the GPU
// machine. `shard` is the module that the worker threads of `--workers` import (dataParallel from @dale/backend/node).
// `kernel-profile` splits a step of a bench net by kernel, with and without the wasm kernels of @dale/backend.
export default application({ entry: ["src/main.ts", "src/gpu-entry.ts", "src/shard.ts", "src/kernel-profile.ts"] });
