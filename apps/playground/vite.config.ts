import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
/** The committed checkpoint the page samples: its manifest and weights, and its guide's (fromPretrained reads the EMA ones). */
const CHECKPOINT = join(here, "../../checkpoints/mnist-gbm");
const CHECKPOINT_FILES = ["checkpoint.json", "ema.safetensors", "model.safetensors"];
/** tfjs' wasm binaries, which a bundler does not copy; the page passes their folder to initBackend({ wasmPaths }). */
const WASM_DIR = join(dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");

/** The files served beside the page: `mnist-gbm/*` and `wasm/*.wasm`, emitted on build and served by the dev server. */
function assets(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of CHECKPOINT_FILES) files.set(`mnist-gbm/${name}`, join(CHECKPOINT, name));
  // The weaker checkpoint that the model's recommended autoguidance uses, where it has one (extra.sampling.guidance).
  const guide = (JSON.parse(readFileSync(join(CHECKPOINT, "checkpoint.json"), "utf8")) as { extra?: { sampling?: { guidance?: { checkpoint?: unknown } } } }).extra?.sampling?.guidance?.checkpoint;
  if (typeof guide === "string" && /^[\w.-]+(\/[\w.-]+)*$/.test(guide) && !guide.split("/").includes("..")) {
    for (const name of CHECKPOINT_FILES) if (existsSync(join(CHECKPOINT, guide, name))) files.set(`mnist-gbm/${guide}/${name}`, join(CHECKPOINT, guide, name));
  }
  for (const name of readdirSync(WASM_DIR).filter((f) => f.endsWith(".wasm"))) files.set(`wasm/${name}`, join(WASM_DIR, name));
  return files;
}

function daleAssets(): Plugin {
  return {
    name: "dale-assets",
    generateBundle() {
      for (const [fileName, path] of assets()) this.emitFile({ type: "asset", fileName, source: readFileSync(path) });
    },
    configureServer(server) {
      const files = assets();
      server.middlewares.use((req, res, next) => {
        const path = files.get((req.url ?? "").split("?")[0]?.replace(/^\//, "") ?? "");
        if (path === undefined) return next();
        res.setHeader("Content-Type", path.endsWith(".json") ? "application/json" : path.endsWith(".wasm") ? "application/wasm" : "application/octet-stream");
        res.end(readFileSync(path));
      });
    },
  };
}

// Relative asset URLs (base "./"), so that dist/ works from any folder of any static server.
export default defineConfig({
  base: "./",
  plugins: [daleAssets()],
  build: { target: "es2022", chunkSizeWarningLimit: 4096 },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
});
