import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { initBackend } from "./init";
import { installThreadedWasm } from "./wasm-threads";
import { problem, type ProblemResult } from "./__fixtures__/threads-problem.mjs";

// The child runs the build: `npx tsup` (turbo's test task builds first).
const child = fileURLToPath(new URL("./__fixtures__/threads-child.mjs", import.meta.url));
const run = promisify(execFile);

interface Result extends ProblemResult {
  backend: string;
  threads: number;
  threadsNote: string | null;
  leaked: number;
}

async function inChild(threads: number | "-", env: Record<string, string> = {}): Promise<Result> {
  // A child that does not exit by itself (pthread workers keeping Node alive) fails here on the timeout.
  const { stdout } = await run(process.execPath, [child, String(threads)], { timeout: 60_000, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Result;
}

function maxRelErr(got: number[], want: number[]): number {
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((g, i) => Math.abs(g - want[i]!))) / scale;
}

describe("tfjs' multi-threaded wasm build in Node (initBackend)", () => {
  it("runs 2 XNNPACK threads, computes what the single-threaded backend computes, leaks nothing and lets Node exit", async () => {
    // The test process runs tfjs' single-threaded wasm (the shared vitest setup starts it).
    expect(tf.getBackend()).toBe("wasm");
    const want = await problem(tf);
    const got = await inChild(2);
    expect(got).toMatchObject({ backend: "wasm", threads: 2, threadsNote: null, leaked: 0 });
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-5);
    got.grads.forEach((g, i) => expect(maxRelErr(g, want.grads[i]!)).toBeLessThan(1e-5));
    expect(maxRelErr(got.adam, want.adam)).toBeLessThan(1e-5);
    // The problem is not trivial: its gradients are not all zero, and Adam lowers the loss.
    expect(Math.max(...want.grads.flat().map(Math.abs))).toBeGreaterThan(1e-3);
    expect(want.adam[2]!).toBeLessThan(want.adam[0]!);
  }, 120_000);

  it("threads 1 is tfjs' own single-threaded build, and DALE_WASM_THREADS sets the count", async () => {
    expect(await inChild(1)).toMatchObject({ backend: "wasm", threads: 1, threadsNote: null });
    expect(await inChild("-", { DALE_WASM_THREADS: "1" })).toMatchObject({ backend: "wasm", threads: 1 });
    expect(await inChild("-", { DALE_WASM_THREADS: "2" })).toMatchObject({ backend: "wasm", threads: 2 });
    // The option wins over the environment.
    expect(await inChild(1, { DALE_WASM_THREADS: "2" })).toMatchObject({ backend: "wasm", threads: 1 });
  }, 120_000);

  it("refuses a bad thread count by name, before choosing a backend", async () => {
    await expect(initBackend({ threads: 0 })).rejects.toThrow(/initBackend: options.threads must be an integer in \[1, 64\], got 0/);
    const saved = process.env.DALE_WASM_THREADS;
    process.env.DALE_WASM_THREADS = "two";
    try {
      await expect(initBackend()).rejects.toThrow(/initBackend: DALE_WASM_THREADS must be an integer in \[1, 64\], got two/);
    } finally {
      if (saved === undefined) delete process.env.DALE_WASM_THREADS;
      else process.env.DALE_WASM_THREADS = saved;
    }
    await expect(installThreadedWasm(1.5)).rejects.toThrow(/installThreadedWasm: threads must be a positive integer, got 1.5/);
  });

  it("says why when the wasm backend has already started", async () => {
    // This process started tfjs' wasm backend in the shared setup, before any initBackend.
    expect(await installThreadedWasm(2)).toMatch(/the wasm backend has already started with 1 thread\(s\); call initBackend before tf.setBackend\("wasm"\)/);
    const choice = await initBackend({ prefer: "wasm", threads: 2 });
    expect(choice).toMatchObject({ backend: "wasm", threads: 1 });
    expect(choice.threadsNote).toMatch(/^2 wasm thread\(s\) asked for: the wasm backend has already started/);
  });
});
