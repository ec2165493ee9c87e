// The built playground in a real browser: Debian's chromium, driven headless by playwright-core (no browser download),
// against dist/ served on 127.0.0.1. CI installs chromium and sets DALE_REQUIRE_BROWSER=1, so there a missing browser
// fails; elsewhere these tests are skipped with a note.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "@dale/backend";
import { fromPretrained } from "@dale/models/node";
import { samplerNfe, stepsForNfe } from "@dale/samplers";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaleRun } from "../src/main";
import { serve } from "./serve";

const root = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(root, "dist");
const CHROMIUM = process.env.DALE_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available && process.env.DALE_REQUIRE_BROWSER === "1") {
  throw new Error(`DALE_REQUIRE_BROWSER=1 but there is no chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set DALE_CHROMIUM).`);
}
if (!available) console.warn(`[playground] skipping the browser tests: no chromium at ${CHROMIUM} (apt-get install chromium, or set DALE_CHROMIUM).`);

/** The flags of every launch: headless, no sandbox (root in CI), nothing fetched from the network. */
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
/** WebGPU on SwiftShader (Vulkan on the CPU, shipped with chromium): correct, and far too slow to time. */
const WEBGPU_FLAGS = ["--enable-unsafe-swiftshader", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"];

let server: Awaited<ReturnType<typeof serve>>;
const profiles: string[] = [];
beforeAll(async () => {
  if (!available) return;
  if (!existsSync(join(DIST, "index.html"))) throw new Error("build first: pnpm --filter @dale/playground build (turbo's test task does it).");
  server = await serve(DIST);
});
afterAll(async () => {
  await server?.close();
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
});

async function launch(flags: string[] = []): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), "dale-chromium-"));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...flags] });
}

/** Opens the page with `query`, waits until it is ready, presses Sample and returns the finished run. */
async function sampleOnPage(page: Page, query: string, timeout: number): Promise<DaleRun> {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}${query}`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state ?? ""), null, { timeout: 120_000 });
  expect(await page.evaluate(() => document.body.dataset.error ?? null), errors.join("\n")).toBeNull();
  await page.getByTestId("sample").click();
  await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state ?? ""), null, { timeout, polling: 500 });
  expect(await page.evaluate(() => document.body.dataset.error ?? null), errors.join("\n")).toBeNull();
  return (await page.evaluate(() => window.daleRun)) as DaleRun;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

describe.skipIf(!available)("the playground in chromium", () => {
  it("samples 16 digits on wasm from the query ?n=16&seed=0&nfe=20, redraws the grid as it goes, and gives Node's pixels", async () => {
    const context = await launch();
    try {
      const page = await context.newPage();
      // The checkpoint's default sampler, with its recommended autoguidance where it has one (the guide's files are
      // fetched from mnist-gbm/guide/): NFE 20 counts both networks.
      const manifest = JSON.parse(readFileSync(join(root, "../../checkpoints/mnist-gbm/checkpoint.json"), "utf8")) as { extra: { sampling?: { sampler: string; guidance?: unknown } } };
      const rec = manifest.extra.sampling;
      const perEvaluation = rec?.guidance !== undefined ? 2 : 1;
      const sampler = (rec?.sampler ?? "heun") as "heun";
      const steps = stepsForNfe(sampler, Math.floor(20 / perEvaluation));
      const result = await sampleOnPage(page, "?n=16&seed=0&nfe=20&backend=wasm", 480_000);
      expect(result).toMatchObject({ backend: "wasm", sampler, steps, nfe: perEvaluation * samplerNfe(sampler, { steps }), n: 16, seed: 0, shape: [16, 28, 28, 1] });
      expect(result.images).toHaveLength(16 * 784);
      expect(result.images.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(result.frames).toBeGreaterThan(1); // the grid was redrawn during the run, not only at its end
      // The canvas shows the final grid: 4 x 4 digits of 28 px, drawn from the images.
      const canvas = await page.getByTestId("grid").evaluate((c: HTMLCanvasElement) => {
        const ctx = c.getContext("2d") as CanvasRenderingContext2D;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        return { width: c.width, height: c.height, first: Array.from({ length: 28 }, (_, x) => data[x * 4] as number) };
      });
      expect(canvas).toMatchObject({ width: 112, height: 112 });
      expect(canvas.first).toEqual(result.images.slice(0, 28).map((v) => Math.round(v * 255)));
      // The same checkpoint, sampler, steps, batch and seed in Node on wasm: the same pixels up to float rounding.
      await initBackend({ prefer: "wasm" });
      const pipe = await fromPretrained(join(root, "../../checkpoints/mnist-gbm"));
      try {
        const node = await pipe.sample({ n: 16, seed: 0, sampler, steps, batch: 16 });
        const diff = maxDiff(await node.data(), result.images);
        node.dispose();
        console.log(`[playground] wasm in chromium vs Node: max |difference| ${diff}`);
        expect(diff).toBeLessThan(1e-4);
      } finally {
        pipe.dispose();
      }
    } finally {
      await context.close();
    }
  });

  // Tolerance: the two backends sum convolutions in different orders (float32), and the solver's last step maps
  // log-space values of std up to 10 back through exp, which turns rounding of ~1e-7 into ~1e-3 of a pixel. Measured on
  // 2026-12-04: max 2.3e-3, mean below 1e-4 (of pixels in [0, 1]).
  it("samples on WebGPU (SwiftShader) the same images as on wasm: every pixel within 1e-2, the mean within 5e-4", async () => {
    const context = await launch(WEBGPU_FLAGS);
    try {
      const page = await context.newPage();
      // SwiftShader takes seconds per U-Net evaluation: 2 images, Heun with 2 steps (3 evaluations).
      const query = "?n=2&seed=5&nfe=3&sampler=heun";
      const gpu = await sampleOnPage(page, `${query}&backend=webgpu`, 540_000);
      expect(gpu.backend).toBe("webgpu");
      const wasm = await sampleOnPage(page, `${query}&backend=wasm`, 120_000);
      expect(wasm.backend).toBe("wasm");
      expect(gpu).toMatchObject({ steps: 2, nfe: 3, shape: [2, 28, 28, 1] });
      const diff = maxDiff(gpu.images, wasm.images);
      const mean = gpu.images.reduce((a, v, i) => a + Math.abs(v - (wasm.images[i] as number)), 0) / gpu.images.length;
      console.log(`[playground] WebGPU (SwiftShader) vs wasm: max |difference| ${diff}, mean ${mean}; ${gpu.msPerEvaluation.toFixed(0)} ms per evaluation on SwiftShader (not a speed figure)`);
      expect(diff).toBeLessThan(1e-2);
      expect(mean).toBeLessThan(5e-4);
      expect(gpu.images.some((v) => v > 0.5)).toBe(true); // not a blank grid
    } finally {
      await context.close();
    }
  });
});
