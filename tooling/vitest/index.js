// Shared vitest configuration: every package's tests run on tfjs' `wasm` backend (about 8x faster than `cpu` here) unless
// DALE_BACKEND=cpu asks for the pure-JS one. Neither needs a native install.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export const setupFile = fileURLToPath(new URL("./setup.js", import.meta.url));

/** @param {import("vitest/config").ViteUserConfig["test"]} [test] */
export function daleVitestConfig(test = {}) {
  return defineConfig({
    test: {
      environment: "node",
      setupFiles: [setupFile],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // Tests are CPU-bound tfjs work; two cores, two workers.
      pool: "forks",
      // One wasm thread per test process (and per process a test spawns, which inherits this), unless the caller
      // chose: two test files run at once on CI's two cores, and some start two trainings side by side; a
      // multi-threaded backend in each (initBackend's default in Node) would oversubscribe the cores, and its
      // spin-waiting threads slow everything down many times. Tests of the threads themselves ask for them.
      env: { DALE_WASM_THREADS: process.env.DALE_WASM_THREADS ?? "1" },
      ...test,
    },
  });
}

export default daleVitestConfig();
