import { defineConfig } from "tsup";

// An application, not a library: three ESM entry points (the two bins, and shard.js, which --workers' threads import),
// no declarations. Dependencies stay external (resolved from node_modules at run time), which keeps resvg's native
// binding and tfjs' wasm files where they expect.
export default defineConfig({
  entry: ["src/train.ts", "src/sample.ts", "src/shard.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  banner: { js: "#!/usr/bin/env node" },
});
