#!/usr/bin/env node
// Entry point for the GPU machine: the same CLI as main.ts, with WebGPU tried first. It imports no `webgpu` code
// itself; the GPU variant registers its backend before calling benchMain/runBench (see README, "GPU"). Bundle it
// with ../shared/gpu/pack.sh apps/compute-bench/src/gpu-entry.ts and run it from the repository root, so that
// python/bench_torch.py is found under apps/compute-bench/.
import { benchMain } from "./cli";

benchMain(process.argv, { entry: "gpu", prefer: "webgpu" }).catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
