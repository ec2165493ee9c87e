import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  // The built-in MNIST subset is found relative to the built file through import.meta.url; shim it for CJS.
  shims: true,
});
