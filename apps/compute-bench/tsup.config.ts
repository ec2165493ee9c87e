import { defineConfig } from "tsup";

// An application, not a library: ESM entry points, no declarations. Dependencies stay external (resolved from
// node_modules at run time), which keeps tfjs' wasm files where they expect to be. `gpu-entry` is the same CLI with
// WebGPU preferred; ../shared/gpu/pack.sh bundles src/gpu-entry.ts itself for the GPU machine. `shard` is the module
// that the worker threads of `--workers` import (dataParallel from @dale/backend). `kernel-profile` splits a step of
// a bench net by kernel, with and without the wasm kernels of @dale/backend.
export default defineConfig({
  entry: ["src/main.ts", "src/gpu-entry.ts", "src/shard.ts", "src/kernel-profile.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
});
