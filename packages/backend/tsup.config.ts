import { defineConfig } from "tsup";

// Two entries: the library, and the worker thread of `dataParallel` (which finds it next to its own built file).
// `shims` gives the CJS build an `import.meta.url`.
export default defineConfig({
  entry: ["src/index.ts", "src/parallel-worker.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  target: "es2022",
});
