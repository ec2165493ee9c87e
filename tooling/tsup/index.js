// The builds of the workspace: published packages (ESM and CJS with declarations) and applications (ESM bins).
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

/**
 * tsup's options for an application of apps/: ESM for Node 20, no declarations. Dependencies stay external (resolved
 * from node_modules at run time), which keeps tfjs' wasm files and resvg's native binding where they expect.
 */
export function application(overrides = {}) {
  return defineConfig({
    format: ["esm"],
    dts: false,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
    ...overrides,
  });
}
