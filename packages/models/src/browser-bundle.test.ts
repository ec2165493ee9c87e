// The main entries bundle for a browser: esbuild, platform "browser", on a file that imports every browser-safe
// package of the workspace, fromPretrained and every sampler. A Node built-in anywhere in what they import (node:fs,
// worker_threads, ...) cannot resolve there and fails the build; the Node-only code lives in the `/node` entries.
// It bundles the built packages (dist/, through their package.json exports), as a user's bundler would: `pnpm build`
// first (CI does, and turbo's test task builds this package's dependencies).
import { existsSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Message, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

const packagesDir = fileURLToPath(new URL("../..", import.meta.url));

/** The packages whose main entry must bundle for a browser. */
const BROWSER_SAFE = ["sde", "scores", "losses", "samplers", "models", "data", "backend", "io", "random"] as const;

/**
 * Resolves `@dale/<name>[/sub]` from the package's own folder (a self-reference through its exports map), so that
 * this test needs no dependency on every package; their own imports then resolve from their folders as usual.
 */
const workspace: Plugin = {
  name: "dale-workspace",
  setup(b) {
    b.onResolve({ filter: /^@dale\/[a-z0-9-]+(\/.*)?$/ }, async (args) => {
      if (args.pluginData === "dale-workspace") return undefined;
      const name = args.path.split("/")[1] as string;
      const dir = join(packagesDir, name);
      if (!existsSync(join(dir, "package.json"))) return undefined;
      const result = await b.resolve(args.path, { kind: args.kind, resolveDir: dir, pluginData: "dale-workspace" });
      return result.errors.length > 0 ? { errors: result.errors } : { path: result.path, external: result.external, sideEffects: result.sideEffects };
    });
  },
};

const entry = `
${BROWSER_SAFE.map((name) => `export * as ${name} from "@dale/${name}";`).join("\n")}
export { fromPretrained, urlSource, checkpointFromFiles, readCheckpoint, toPixels } from "@dale/models";
export { initBackend } from "@dale/backend";
export {
  runSampler, samplerCatalogue, SAMPLER_NAMES, daleLangevin, signAgnostic, probabilityFlow, eulerMaruyama, predictorCorrector,
  euler, heun, edmStochastic, dpmpp2m, dpmpp2mSde, solveProcess,
} from "@dale/samplers";
`;

const format = (messages: Message[]) => messages.map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ""}${m.text}`).join("\n");

describe("browser bundle", () => {
  it("bundles every main entry, fromPretrained and every sampler for a browser, with no Node built-in", async () => {
    const missing = BROWSER_SAFE.filter((name) => !existsSync(join(packagesDir, name, "dist", "index.js")));
    expect(missing, `packages/{${missing.join(",")}}/dist is missing: run scripts/pnpm build first`).toEqual([]);

    let result;
    try {
      result = await build({
        stdin: { contents: entry, resolveDir: packagesDir, loader: "js", sourcefile: "browser-entry.js" },
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        metafile: true,
        logLevel: "silent",
        plugins: [workspace],
      });
    } catch (err) {
      const errors = (err as { errors?: Message[] }).errors;
      throw new Error(`esbuild --platform=browser failed:\n${errors ? format(errors) : String(err)}`);
    }
    expect(format(result.errors)).toBe("");

    // No Node-only entry (dist/node.*) and no built-in among the inputs.
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => /packages\/[^/]+\/dist\/node\./.test(p))).toEqual([]);
    const builtins = new Set(builtinModules);
    expect(inputs.filter((p) => p.startsWith("node:") || builtins.has(p))).toEqual([]);

    // No import of a built-in left: every import of every bundled file resolved into the bundle (a package's
    // "browser" field may disable one, as tfjs-backend-wasm does for Emscripten's Node branch: "(disabled):fs").
    const leftovers = Object.entries(result.metafile.inputs).flatMap(([file, input]) =>
      input.imports.filter((i) => i.external || i.path.startsWith("node:") || builtins.has(i.path)).map((i) => `${file} imports ${i.original ?? i.path}`),
    );
    expect(leftovers).toEqual([]);
    const text = result.outputFiles[0]?.text ?? "";
    expect(text).toContain("fromPretrained:");
  });
});
