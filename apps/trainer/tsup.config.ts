import { defineConfig } from "tsup";

// An application, not a library: ESM entry points for the three bins (dale-train, dale-sample, dale-export),
// shard.js (which --workers' threads import) and lib.js, the small library entry that other apps of this repository
// import (the only one with declarations).
// Dependencies stay external (resolved from node_modules at run time), which keeps resvg's native binding and tfjs'
// wasm files where they expect.
export default defineConfig({
  entry: ["src/train.ts", "src/sample.ts", "src/export.ts", "src/shard.ts", "src/lib.ts"],
  format: ["esm"],
  dts: { entry: "src/lib.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  banner: { js: "#!/usr/bin/env node" },
});
