import { defineConfig } from "tsup";

// An application, not a library: one ESM entry point, no declarations. Dependencies stay external (resolved from
// node_modules at run time), which keeps resvg's native binding and tfjs' wasm files where they expect to be.
export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
});
