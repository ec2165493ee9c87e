import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import type { BenchReport } from "./bench";
import { DEFAULT_PYTHON, benchCommand, benchParamCount, buildRefCnn, measureTfjs, formatTable, median, parseCli, refCnnParamCount, runBench, runTorchBench, stepsFor } from "./index";

/**
 * PyTorch's side of the equivalence checks, computed once by tooling/fixtures/compute_bench_torch.py (torch 1.13)
 * with bench_torch.py's own functions and committed; tooling/fixtures/check.sh regenerates it where torch exists.
 */
interface TorchReference {
  versions: Record<string, string>;
  paramCounts: Record<string, number>;
  forward: { spec: string; specSha256: string; y: { dtype: "<f4"; shape: [number]; base64: string } };
}
const torchReference = (): TorchReference => JSON.parse(readFileSync(new URL("./__fixtures__/torch-reference.json", import.meta.url), "utf8")) as TorchReference;
/** The spec the forward test hands to PyTorch, as tooling/fixtures/check.sh finds it under DALE_FIXTURE_INPUTS. */
const FORWARD_SPEC = "compute-bench-small-forward.json";

/** With DALE_FIXTURE_INPUTS=<dir> (tooling/fixtures/check.sh), writes what is handed to Python into <dir>. */
function writeFixtureInput(name: string, text: string): void {
  const dir = process.env.DALE_FIXTURE_INPUTS;
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
}

/** The interpreter the timing test runs bench_torch.py with (DALE_PYTHON, else the bench's default). */
const python = process.env.DALE_PYTHON || DEFAULT_PYTHON;

const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
/** Why PyTorch cannot be timed here, or null when `import torch` works. */
const noTorch =
  probe.error !== undefined
    ? `${python} cannot run (${probe.error.message})`
    : probe.status !== 0
      ? `torch is not importable by ${python}: ${probe.stderr.trim().split("\n").pop() ?? ""}`
      : null;
if (noTorch !== null) console.warn(`[compute-bench] PyTorch timing skipped (the test checks the skip message instead): ${noTorch}`);

describe("timing", () => {
  it("takes the median and chooses the step count from the target time", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(stepsFor(5, 100, 3, 50)).toBe(50);
    expect(stepsFor(5, 1000, 3, 50)).toBe(5);
    expect(stepsFor(5, 10_000, 3, 50)).toBe(3);
  });
});

describe("tfjs measurement", () => {
  it("records a failing step as an error instead of throwing, and cleans up", async () => {
    // As on a backend without the kernel: take Conv2DBackpropFilter away for the duration of the test.
    const backend = tf.getBackend();
    const kernel = tf.getKernel("Conv2DBackpropFilter", backend);
    if (kernel !== undefined) tf.unregisterKernel("Conv2DBackpropFilter", backend);
    try {
      const m = await measureTfjs("small", "train", 1, { seconds: 0.01, warmup: 1, minSteps: 1, maxSteps: 1 });
      expect(m.error).toMatch(/Conv2DBackpropFilter/);
      expect(m.msMedian).toBeUndefined();
      // tfjs' engine does not free the tensors its tape saved for a backward pass that threw; they are reported.
      expect(m.leakedTensors).toBeGreaterThanOrEqual(0);
    } finally {
      if (kernel !== undefined) tf.registerKernel(kernel);
    }
    const ok = await measureTfjs("small", "forward", 1, { seconds: 0.01, warmup: 1, minSteps: 3, maxSteps: 3 });
    expect(ok).toMatchObject({ steps: 3, tensorGrowth: 0, leakedTensors: 0 });
  });
});

describe("command line", () => {
  it("has the documented defaults and drops pnpm's --", () => {
    const o = parseCli(["--", "--"], "user");
    expect(o).toMatchObject({ nets: ["small"], batch: 64, phases: ["train", "forward"], threads: [1, 2], seconds: 5, torch: true, installTorch: false });
    const p = parseCli(["--nets", "small,wide", "--batch", "8", "--phases", "forward", "--threads", "1", "--seconds", "3", "--no-torch", "--json-out", "x.json"], "user");
    expect(p).toMatchObject({ nets: ["small", "wide"], batch: 8, phases: ["forward"], threads: [1], seconds: 3, torch: false, jsonOut: "x.json" });
  });

  it("names the option in its errors", () => {
    const parse = (args: string[]) => parseCli(args, "user", benchCommand().exitOverride().configureOutput({ writeErr: () => undefined }));
    expect(() => parse(["--nets", "huge"])).toThrow(
      /--nets <list>.*every item of --nets must be one of small, wide, unet-mnistSmall, unet-tiny, unet-cifar10Small, unet-cifar10, got "huge"/,
    );
    expect(() => parse(["--nets", "small,small"])).toThrow(/--nets must list distinct values; small appears more than once/);
    expect(() => parse(["--kernels", "fast"])).toThrow(/--kernels <list>.*must be one of dale, conv-grad, tfjs, got "fast"/);
    expect(() => parse(["--batch", "0"])).toThrow(/--batch <n>.*--batch must be between 1 and 4096, got 0/);
    expect(() => parse(["--batch", "1e3"])).toThrow(/--batch must be an integer, got "1e3"/);
    expect(() => parse(["--threads", "1,,2"])).toThrow(/--threads must be a comma-separated list without empty items/);
    expect(() => parse(["--seconds", "x"])).toThrow(/--seconds <s>.*--seconds must be a number of seconds in \(0, 600\], got "x"/);
    expect(() => parse(["--optimizer", "sgd"])).toThrow(/--optimizer must be one of dale, tfjs, got "sgd"/);
  });
});

describe("report", () => {
  it("prints a row per net and phase with ratios, and lists the errors", () => {
    const report = {
      backend: "wasm",
      tfjsVersion: "4.22.0",
      machine: { cpu: "CPU", cores: 2 },
      options: { seconds: 5, warmup: 3 },
      torch: { ok: true, version: "1.13", python: "3.11", cuda: { used: false }, configs: ["cpu-1t"] },
      rows: [
        { net: "small", batch: 64, phase: "train", kernels: "tfjs", workers: 0, tfjs: { error: "Kernel 'X' not registered" }, torch: { "cpu-1t": { msMedian: 50 } }, ratio: { "cpu-1t": null } },
        { net: "small", batch: 64, phase: "forward", kernels: "dale", workers: 1, tfjs: { msMedian: 40 }, torch: { "cpu-1t": { msMedian: 20 } }, ratio: { "cpu-1t": 2 } },
      ],
    } as unknown as BenchReport;
    const text = formatTable(report);
    expect(text).toContain("| net           | batch | phase   | kernels | workers | tfjs wasm ms | torch cpu-1t ms | tfjs/torch cpu-1t |");
    expect(text).toMatch(/\| ref-cnn-small \| +64 \| forward \| dale +\| +1 \| +40\.0 \| +20\.0 \| +2\.00 \|/);
    expect(text).toMatch(/\| train +\| tfjs +\| +0 \| +error \| +50\.0 \| +- \|/);
    expect(text).toContain("error: ref-cnn-small train batch 64 (kernels tfjs, 0 workers), tfjs wasm: Kernel 'X' not registered");
  });
});

describe("PyTorch missing", () => {
  it("comes back as a clear failure, not an exception", async () => {
    // `python3 -S` skips site-packages, where Debian's python3-torch lives: a Python without torch.
    const dir = mkdtempSync(join(tmpdir(), "compute-bench-"));
    try {
      const python = join(dir, "python-without-torch");
      writeFileSync(python, `#!/bin/sh\nexec ${DEFAULT_PYTHON} -S "$@"\n`);
      chmodSync(python, 0o755);
      const r = await runTorchBench({
        nets: ["small"], batch: 1, phases: ["forward"], threads: [1], seconds: 0.01, warmup: 1, minSteps: 1, maxSteps: 1,
        python, log: () => undefined,
      });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toBe("torch-not-importable");
        expect(r.message).toMatch(/PyTorch is not importable by .*python-without-torch \(ModuleNotFoundError: No module named 'torch'\).*apt-get install -y python3-torch.*--install-torch/);
      }
      const gone = await runTorchBench({
        nets: ["small"], batch: 1, phases: ["forward"], threads: [1], seconds: 0.01, warmup: 1, minSteps: 1, maxSteps: 1,
        python: join(dir, "no-such-python"), log: () => undefined,
      });
      expect(gone).toMatchObject({ ok: false, reason: "spawn-failed" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("PyTorch reference (committed: tooling/fixtures/compute_bench_torch.py, no Python needed)", () => {
  it("bench_torch.py builds nets with the same parameter counts", () => {
    const counts = torchReference().paramCounts;
    expect(counts).toEqual({
      small: refCnnParamCount("small"),
      wide: refCnnParamCount("wide"),
      "unet-mnistSmall": benchParamCount("unet-mnistSmall"),
      "unet-tiny": benchParamCount("unet-tiny"),
      "unet-cifar10Small": benchParamCount("unet-cifar10Small"),
      "unet-cifar10": benchParamCount("unet-cifar10"),
    });
    // DDPM-style U-Nets of packages/models: their documented counts, equal on both sides (DDPM reports 35.7M).
    expect(counts["unet-mnistSmall"]).toBe(1112801);
    expect(counts["unet-cifar10Small"]).toBe(1525411);
    expect(counts["unet-cifar10"]).toBe(35746307);
  });

  it("bench_torch.py computes the same function as the tfjs net for the same weights and input", async () => {
    const net = buildRefCnn("small", { seed: 7 });
    const x = tf.randomNormal<tf.Rank.R4>([2, 28, 28, 1], 0, 1, "float32", 3);
    const y = net.forward(x);
    try {
      const weights = await Promise.all(net.vars.map(async (v) => Array.from(await v.data())));
      const spec = JSON.stringify({ kind: "small", batch: 2, weights, x: Array.from(await x.data()) });
      writeFixtureInput(FORWARD_SPEC, spec);
      const { forward } = torchReference();
      expect(forward.spec).toBe(FORWARD_SPEC);
      // PyTorch ran on exactly this spec: other weights or inputs need a new reference.
      const sha256 = createHash("sha256").update(spec).digest("hex");
      expect(sha256, "the spec is no longer the one PyTorch ran; regenerate the fixture with tooling/fixtures/check.sh --write").toBe(forward.specSha256);
      const torchY = new Float32Array(new Uint8Array(Buffer.from(forward.y.base64, "base64")).buffer);
      const ours = await y.data();
      expect(torchY.length).toBe(ours.length);
      let maxErr = 0;
      let maxAbs = 0;
      ours.forEach((v, i) => {
        maxErr = Math.max(maxErr, Math.abs(v - (torchY[i] as number)));
        maxAbs = Math.max(maxAbs, Math.abs(v));
      });
      expect(maxAbs).toBeGreaterThan(0.1);
      expect(maxErr).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    } finally {
      tf.dispose([x, y]);
      net.dispose();
    }
  });
});

// A benchmark, not a reference: it times PyTorch when `python` can import torch, and otherwise must say clearly that
// it skipped PyTorch (and still time tfjs). Either way the test checks what the bench reports.
describe(`PyTorch timing (${noTorch === null ? `torch importable by ${python}` : `torch missing: checks the skip message; ${noTorch}`})`, () => {
  const timing = () =>
    runBench({
      nets: ["small"],
      batch: 1,
      phases: ["forward"],
      threads: [1],
      seconds: 0.01,
      // A fixed number of timed steps: how many fit in `seconds` depends on the machine's load, not on the code.
      minSteps: 3,
      maxSteps: 3,
      torch: true,
      installTorch: false,
      python,
      log: (l) => lines.push(l),
    });
  const lines: string[] = [];

  it.runIf(noTorch === null)("runBench times tfjs and torch and merges them into rows with ratios", async () => {
    const report = await timing();
    expect(report.torch.ok).toBe(true);
    expect(report.torch.configs).toEqual(["cpu-1t"]);
    const row = report.rows[0];
    expect(row?.tfjs.error).toBeUndefined();
    expect(row?.tfjs.steps).toBe(3);
    expect(row?.tfjs.leakedTensors).toBe(0);
    expect(row?.tfjs.tensorGrowth).toBe(0);
    expect(row?.torch["cpu-1t"]?.msMedian).toBeGreaterThan(0);
    expect(row?.ratio["cpu-1t"]).toBeCloseTo((row?.tfjs.msMedian as number) / (row?.torch["cpu-1t"]?.msMedian as number), 10);
    expect(lines.some((l) => l.startsWith("[torch] small forward batch 1 cpu-1t"))).toBe(true);
  });

  it.runIf(noTorch !== null)("runBench times tfjs alone and says why PyTorch was skipped", async () => {
    const report = await timing();
    expect(report.torch).toMatchObject({ ok: false, configs: [] });
    const row = report.rows[0];
    expect(row?.tfjs.error).toBeUndefined();
    expect(row?.tfjs.steps).toBe(3);
    expect(row?.torch).toEqual({});
    const table = formatTable(report);
    if (probe.error !== undefined) {
      // No interpreter at all: the bench says it could not run it.
      expect(report.torch).toMatchObject({ ok: false, reason: "spawn-failed" });
      expect(table).toMatch(/PyTorch: not run \(spawn-failed\): cannot run .+/);
    } else {
      expect(report.torch).toMatchObject({ ok: false, reason: "torch-not-importable" });
      expect(table).toMatch(/PyTorch: not run \(torch-not-importable\): PyTorch is not importable by .+ \(ModuleNotFoundError: No module named 'torch'\)\. Install .*apt-get install -y python3-torch.*--install-torch.*--no-torch/);
    }
    expect(table).not.toContain("torch cpu-1t ms");
  });
});

describe("--workers", () => {
  // The workers import the built dist/shard.js: turbo's test task builds the app first (or run `npx tsup`).
  it("parses --workers and times a data-parallel training step with 1 worker", async () => {
    expect(parseCli([], "user").workers).toEqual([0]);
    const o = parseCli(["--workers", "1", "--batch", "4", "--phases", "train", "--no-torch", "--seconds", "0.01"], "user");
    expect(o.workers).toEqual([1]);
    const report = await runBench({ ...o, warmup: 1, minSteps: 2, maxSteps: 2, log: () => undefined });
    expect(report.options.workers).toEqual([1]);
    const row = report.rows[0];
    expect(row?.tfjs.error).toBeUndefined();
    expect(row?.tfjs.msMedian).toBeGreaterThan(0);
    expect(row?.tfjs).toMatchObject({ steps: 2, leakedTensors: 0, tensorGrowth: 0 });
    expect(row).toMatchObject({ kernels: "dale", workers: 1 });
  });
});
