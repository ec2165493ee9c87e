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
      ...test,
    },
  });
}

export default daleVitestConfig();
