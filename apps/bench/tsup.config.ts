import { defineConfig } from "tsup";

// An application: one ESM bin, no declarations; dependencies stay external (tfjs' wasm files and resvg's native
// binding are resolved from node_modules at run time).
export default defineConfig({
  entry: ["src/bench.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  banner: { js: "#!/usr/bin/env node" },
});
