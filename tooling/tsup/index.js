// The build of every published package: ESM and CJS with declarations and source maps, for ES2022.
import { defineConfig } from "tsup";

/** tsup's options for a published @dale package; `overrides` adds entries or shims where a package needs them. */
export function library(overrides = {}) {
  return defineConfig({
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "es2022",
    ...overrides,
  });
}
