// The README's main job, `scripts/pnpm demo -- <dale-train options>`, through pnpm as a user types it: the options after
// `--` reach dale-train (pnpm passes the separator on, and scripts/demo drops it; it once failed with "too many
// arguments"). A short run into a temporary folder: the committed model's 36-digit grid, then 2 training steps.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const repo = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const out = mkdtempSync(join(tmpdir(), "dale-demo-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const pnpm = process.env.npm_execpath?.includes("pnpm") ? [process.execPath, process.env.npm_execpath] : ["pnpm"];

it("scripts/pnpm demo -- --steps 2 passes the options to dale-train and writes both grids", { timeout: 300_000 }, async () => {
  const [cmd, ...args] = [...pnpm, "demo", "--", "--steps", "2", "--sample-count", "4", "--sample-steps", "2"] as [string, ...string[]];
  const { stdout, stderr } = await promisify(execFile)(cmd, args, { cwd: repo, encoding: "utf8", env: { ...process.env, DALE_DEMO_OUT: out, DALE_BACKEND: "wasm" } });
  expect(stderr).not.toMatch(/too many arguments|error:/);
  expect(stdout + stderr).toMatch(/step 2\/2|done: step 2/);
  expect(existsSync(join(out, "pretrained.png"))).toBe(true);
  expect(existsSync(join(out, "samples-2.png"))).toBe(true);
  const manifest = JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as { step: number; extra: { config: { sampleCount: number } } };
  expect(manifest.step).toBe(2);
});
