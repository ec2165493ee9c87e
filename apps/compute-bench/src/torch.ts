// Runs python/bench_torch.py in a child process and reads its JSON.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Phase } from "./phases";
import type { BenchNet } from "./models";

/** Debian's python3-torch (1.13, CPU) lives here. */
export const DEFAULT_PYTHON = "/usr/bin/python3";

/** One PyTorch configuration: `cpu-<k>t` (k intra-op threads), `cuda-tf32` or `cuda-fp32`. */
export interface TorchConfig {
  name: string;
  device: "cpu" | "cuda";
  threads?: number;
  tf32?: boolean;
}

/** One measurement as the script reports it (snake_case, as printed). */
export interface TorchMeasurement {
  net: BenchNet;
  batch: number;
  phase: Phase;
  config: string;
  ms_median?: number;
  ms_min?: number;
  ms_mean?: number;
  steps?: number;
  warmup?: number;
  error?: string;
}

/** The script's JSON when torch ran. */
export interface TorchReport {
  ok: true;
  torch_version: string;
  python: string;
  executable: string;
  default_threads: number;
  mkldnn: boolean;
  cuda: { available: boolean; used: boolean; device: string | null; cuda_version: string | null; cudnn: number | null };
  configs: TorchConfig[];
  param_counts: Partial<Record<BenchNet, number>>;
  results: TorchMeasurement[];
}

/** Why there are no PyTorch figures. */
export interface TorchFailure {
  ok: false;
  /** `torch-not-importable`, `python-failed` (no JSON, or a non-zero exit) or `spawn-failed`. */
  reason: string;
  message: string;
}

export interface TorchRunOptions {
  nets: readonly BenchNet[];
  batch: number;
  phases: readonly Phase[];
  threads: readonly number[];
  seconds: number;
  warmup: number;
  minSteps: number;
  maxSteps: number;
  python?: string;
  /** Path of bench_torch.py; found by `findTorchScript()` when absent. */
  script?: string;
  /** On `torch-not-importable`, run `apt-get install -y python3-torch` once and try again. */
  installTorch?: boolean;
  /** Where the script's progress and apt-get's output go. Default: this process's stderr. */
  log?: (line: string) => void;
}

/**
 * Finds python/bench_torch.py: next to this module's folder (src/ under vitest, dist/ after the build), or under the
 * working directory as `apps/compute-bench/python/` or `python/` (a bundle such as ../shared/gpu/pack.sh's app.mjs
 * lives elsewhere, but runs from the repository root).
 */
export function findTorchScript(): string {
  const candidates = [
    fileURLToPath(new URL("../python/bench_torch.py", import.meta.url)),
    resolve(process.cwd(), "apps/compute-bench/python/bench_torch.py"),
    resolve(process.cwd(), "python/bench_torch.py"),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`bench_torch.py not found; looked at:\n${candidates.map((c) => `  ${c}`).join("\n")}\n(pass --torch-script)`);
  }
  return found;
}

interface ProcessResult {
  code: number | null;
  stdout: string;
  spawnError?: Error;
}

function runProcess(command: string, args: readonly string[], onStderr: (chunk: string) => void): Promise<ProcessResult> {
  return new Promise((resolvePromise) => {
    let stdout = "";
    let settled = false;
    const settle = (r: ProcessResult) => {
      if (settled) return;
      settled = true;
      resolvePromise(r);
    };
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", onStderr);
    child.on("error", (e) => settle({ code: null, stdout, spawnError: e }));
    child.on("close", (code) => settle({ code, stdout }));
  });
}

function lineLogger(log: (line: string) => void): (chunk: string) => void {
  let buffer = "";
  return (chunk) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf("\n")) >= 0) {
      log(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  };
}

/** The last line of stdout that parses as a JSON object, or null. */
function lastJson(stdout: string): unknown {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      return JSON.parse(t) as unknown;
    } catch {
      // not this line
    }
  }
  return null;
}

async function runScript(python: string, args: readonly string[], log: (line: string) => void): Promise<TorchReport | TorchFailure> {
  const r = await runProcess(python, args, lineLogger(log));
  if (r.spawnError) return { ok: false, reason: "spawn-failed", message: `cannot run ${python}: ${r.spawnError.message}` };
  const json = lastJson(r.stdout) as (TorchReport | (TorchFailure & { python?: string })) | null;
  if (json === null || typeof json !== "object") {
    return { ok: false, reason: "python-failed", message: `${python} ${args.join(" ")} exited with ${r.code} and printed no JSON` };
  }
  if (json.ok === false) return { ok: false, reason: json.reason ?? "python-failed", message: json.message ?? "" };
  if (r.code !== 0) return { ok: false, reason: "python-failed", message: `${python} exited with ${r.code}` };
  return json;
}

/** `apt-get install -y python3-torch`, after `apt-get update` if the first try fails. */
async function installTorch(log: (line: string) => void): Promise<boolean> {
  const apt = async (args: string[]) => {
    log(`[bench] apt-get ${args.join(" ")}`);
    const r = await runProcess("apt-get", args, lineLogger(log));
    if (r.spawnError) log(`[bench] cannot run apt-get: ${r.spawnError.message}`);
    return r.code === 0;
  };
  if (await apt(["install", "-y", "python3-torch"])) return true;
  return (await apt(["update"])) && (await apt(["install", "-y", "python3-torch"]));
}

/** The message printed when torch is missing and --install-torch was not given. */
export function torchMissingMessage(python: string, detail: string): string {
  return (
    `PyTorch is not importable by ${python} (${detail}). Install Debian's CPU build with ` +
    "`apt-get install -y python3-torch`, or rerun with --install-torch (which does that), or pass --no-torch."
  );
}

/**
 * Times the reference nets in PyTorch: runs bench_torch.py with the same nets, batch, phases and timing settings.
 * Never throws for a missing or failing Python: the failure comes back as `{ ok: false, reason, message }`.
 */
export async function runTorchBench(options: TorchRunOptions): Promise<TorchReport | TorchFailure> {
  const python = options.python ?? DEFAULT_PYTHON;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let script: string;
  try {
    script = options.script ?? findTorchScript();
  } catch (e) {
    return { ok: false, reason: "python-failed", message: (e as Error).message };
  }
  const args = [
    script,
    "--nets",
    options.nets.join(","),
    "--batch",
    String(options.batch),
    "--phases",
    options.phases.join(","),
    "--threads",
    options.threads.join(","),
    "--seconds",
    String(options.seconds),
    "--warmup",
    String(options.warmup),
    "--min-steps",
    String(options.minSteps),
    "--max-steps",
    String(options.maxSteps),
  ];
  let report = await runScript(python, args, log);
  if (!report.ok && report.reason === "torch-not-importable") {
    if (!options.installTorch) return { ...report, message: torchMissingMessage(python, report.message) };
    log(`[bench] torch is not importable by ${python} (${report.message}); installing python3-torch (--install-torch)`);
    if (!(await installTorch(log))) {
      return { ok: false, reason: "torch-not-importable", message: `apt-get install -y python3-torch failed; ${report.message}` };
    }
    report = await runScript(python, args, log);
    if (!report.ok && report.reason === "torch-not-importable") {
      return { ...report, message: `still not importable by ${python} after apt-get install -y python3-torch (${report.message})` };
    }
  }
  return report;
}

/** Parameter counts of the script's nets (`bench_torch.py --count-params`). */
export async function torchParamCounts(
  python: string = DEFAULT_PYTHON,
  script: string = findTorchScript(),
): Promise<Record<BenchNet, number> | TorchFailure> {
  const r = await runProcess(python, [script, "--count-params"], () => undefined);
  if (r.spawnError) return { ok: false, reason: "spawn-failed", message: r.spawnError.message };
  const json = lastJson(r.stdout) as Record<BenchNet, number> | TorchFailure | null;
  if (json === null) return { ok: false, reason: "python-failed", message: `exit ${r.code}, no JSON` };
  return json;
}
