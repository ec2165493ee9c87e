// Installing @dale/models from its published tarballs must work: pack it and the workspace packages it depends on,
// check what each tarball holds, install them with @tensorflow/tfjs-core and the cpu backend into an empty folder
// outside the workspace, and load the committed checkpoint in one call from a plain script: by folder through
// "@dale/models/node", and by URL (served on 127.0.0.1) through the main entry, as a browser page would.
import { execFile, execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, "../..");
const checkpoint = resolve(packages, "../checkpoints/mnist-gbm");
const folder = mkdtempSync(join(tmpdir(), "dale-models-standalone-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// pnpm rewrites `workspace:` ranges to real versions when it packs; npm would not.
const pnpm = process.env.npm_execpath?.includes("pnpm") ? [process.execPath, process.env.npm_execpath] : ["pnpm"];
const run = (cmd: string[], cwd: string) => execFileSync(cmd[0] as string, cmd.slice(1), { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Its dependency closure, leaves first. */
const CLOSURE = ["random", "io", "sde", "scores", "samplers", "models"];

const SCRIPT = `
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { fromPretrained } from "@dale/models/node";
import { fromPretrained as fromUrl } from "@dale/models";
await tf.setBackend("cpu");
const [folder, url] = process.argv.slice(2);
const out = {};
for (const [name, pipe] of [["folder", await fromPretrained(folder)], ["url", await fromUrl(url)]]) {
  const images = await pipe.sample({ n: 2, seed: 0, nfe: 3 });
  const values = Array.from(await images.data());
  out[name] = { shape: images.shape, sampler: pipe.config.sampler.name, step: pipe.config.step, min: Math.min(...values), max: Math.max(...values), values };
  images.dispose();
  pipe.dispose();
}
out.sameImages = out.folder.values.every((v, i) => v === out.url.values[i]);
delete out.folder.values;
delete out.url.values;
out.tensors = tf.memory().numTensors;
console.log(JSON.stringify(out));
`;

it("packs only dist/, README.md and package.json; installs into an empty folder; loads the checkpoint by folder and by URL", { timeout: 600_000 }, async () => {
  for (const pkg of CLOSURE) run([...pnpm, "pack", "--pack-destination", folder], join(packages, pkg));
  const tarballs = readdirSync(folder).filter((f) => f.endsWith(".tgz"));
  expect(tarballs).toHaveLength(CLOSURE.length);
  const unpacked: Record<string, number> = {};
  for (const tgz of tarballs) {
    const listing = run(["tar", "-tvzf", tgz], folder).trim().split("\n");
    const files = listing.map((line) => line.split(/\s+/).at(-1) as string);
    const stray = files.filter((f) => !(f === "package/package.json" || f === "package/README.md" || f === "package/LICENSE" || f.startsWith("package/dist/")));
    expect(stray, tgz).toEqual([]);
    expect(files.filter((f) => /\.test\.|\/src\//.test(f)), tgz).toEqual([]);
    expect(files, tgz).toContain("package/README.md");
    unpacked[basename(tgz)] = listing.reduce((a, line) => a + Number(line.split(/\s+/)[2]), 0);
    const manifest = run(["tar", "-xzOf", tgz, "package/package.json"], folder);
    expect(manifest, `${tgz}: a workspace: range left in package.json`).not.toMatch(/workspace:/);
  }
  // What installing only @dale/samplers adds besides tfjs-core (its peer): random, sde, scores and samplers.
  const samplersClosure = Object.entries(unpacked).filter(([name]) => /^dale-(random|sde|scores|samplers)-/.test(name));
  const samplersBytes = samplersClosure.reduce((a, [, bytes]) => a + bytes, 0);
  console.log(`[standalone] unpacked sizes: ${JSON.stringify(unpacked)}; @dale/samplers with its dependencies: ${(samplersBytes / 1024).toFixed(0)} KiB`);
  expect(samplersClosure).toHaveLength(4);
  expect(samplersBytes).toBeLessThan(2 * 1024 * 1024);

  writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "standalone-models", private: true, type: "module" }));
  run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs.map((t) => `./${t}`), "@tensorflow/tfjs-core@4.22.0", "@tensorflow/tfjs-backend-cpu@4.22.0"], folder);
  writeFileSync(join(folder, "load.mjs"), SCRIPT);

  // The checkpoint folder over http on 127.0.0.1, as a static server would give it to a page.
  const server = createServer((req, res) => {
    // The checkpoint's files and its guide's (guide/), nothing else.
    const name = new URL(req.url ?? "/", "http://127.0.0.1").pathname.replace(/^\/mnist-gbm\//, "");
    const path = join(checkpoint, name);
    if (!/^(guide\/)?(checkpoint\.json|ema\.safetensors|model\.safetensors)$/.test(name)) return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Length": statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist-gbm/`;
    const { stdout } = await promisify(execFile)(process.execPath, ["load.mjs", checkpoint, url], { cwd: folder, encoding: "utf8" });
    const out = JSON.parse(stdout.trim().split("\n").at(-1) as string) as Record<string, { shape: number[]; sampler: string; step: number; min: number; max: number }> & { sameImages: boolean; tensors: number };
    const stored = JSON.parse(readFileSync(join(checkpoint, "checkpoint.json"), "utf8")) as { step: number; extra: { sampling?: { sampler: string } } };
    const { step } = stored;
    for (const name of ["folder", "url"]) {
      expect(out[name], name).toMatchObject({ shape: [2, 28, 28, 1], sampler: stored.extra.sampling?.sampler ?? "heun", step });
      expect(out[name]?.min).toBeGreaterThanOrEqual(0);
      expect(out[name]?.max).toBeLessThanOrEqual(1);
      expect(out[name]?.max).toBeGreaterThan(0.5); // strokes, not a blank image
    }
    expect(out.sameImages).toBe(true);
    expect(out.tensors).toBe(0);
  } finally {
    await new Promise<void>((ok) => server.close(() => ok()));
  }
});
