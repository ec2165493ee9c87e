// The command line: options into `BenchOptions`, then `runBench`, the table and the BENCH_JSON line.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { int, list, num, oneOf, type ArgParser } from "@dale/cli-kit";
import { Command, InvalidArgumentError } from "commander";
import { PHASES, runBench, type BenchOptions, type Phase } from "./bench";
import { KERNEL_SETS, type KernelSet } from "./kernels";
import { BENCH_NETS, type BenchNet } from "./models";
import { benchJsonLine, formatTable } from "./report";
import { DEFAULT_PYTHON } from "./torch";

/** What the CLI parsed: the bench's options plus where to write the JSON. */
export interface CliOptions extends BenchOptions {
  jsonOut?: string;
}

export const DEFAULTS = { nets: "small", batch: 64, phases: "train,forward", threads: "1,2", seconds: 5 } as const;

/** `--nets`: distinct items of small, wide (the reference conv nets), unet-mnistSmall, unet-tiny, unet-cifar10Small, unet-cifar10. */
export const parseNets: ArgParser<BenchNet[]> = list("--nets", oneOf("every item of --nets", BENCH_NETS), { distinct: true });
/** `--phases`: train, forward or both. */
export const parsePhases: ArgParser<Phase[]> = list("--phases", oneOf("every item of --phases", PHASES), { distinct: true });
/** `--batch`: an integer in [1, 4096]. */
export const parseBatch: ArgParser<number> = int("--batch", 1, 4096);
/** `--threads`: distinct integers in [1, 256], e.g. "1,2". */
export const parseThreads: ArgParser<number[]> = list("--threads", int("every item of --threads", 1, 256), { distinct: true });
/** `--workers`: distinct integers in [0, 256], e.g. "0,1". */
export const parseWorkers: ArgParser<number[]> = list("--workers", int("every item of --workers", 0, 256), { distinct: true });
/** `--seconds`: a number in (0, 600]. */
export const parseSeconds: ArgParser<number> = num("--seconds", (v) => v > 0 && v <= 600, "a number of seconds in (0, 600]");
/** `--kernels`: any of dale, conv-grad, tfjs. */
export const parseKernels: ArgParser<KernelSet[]> = list("--kernels", oneOf("every item of --kernels", KERNEL_SETS), { distinct: true });
const parseOptimizer: ArgParser<"dale" | "tfjs"> = oneOf("--optimizer", ["dale", "tfjs"] as const);

function parseNonEmpty(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("must not be empty.");
  return value;
}

/** The bench's command line, without parsing it (commander's `Command`). */
export function benchCommand(name = "compute-bench"): Command {
  return new Command(name)
    .description(
      "Times a training step (Adam on MSE) and a forward pass of the reference conv nets ref-cnn-small/-wide and Dale's U-Net in tfjs on " +
        "the chosen backend and in PyTorch (python/bench_torch.py) on this machine; prints a table with tfjs/torch ratios " +
        "and one BENCH_JSON line.",
    )
    .option("--nets <list>", `nets: ${BENCH_NETS.join(", ")}`, parseNets, parseNets(DEFAULTS.nets))
    .option("--batch <n>", "batch size", parseBatch, DEFAULTS.batch)
    .option("--phases <list>", `what to time: ${PHASES.join(", ")}`, parsePhases, parsePhases(DEFAULTS.phases))
    .option("--threads <list>", "PyTorch CPU thread counts, one configuration each", parseThreads, parseThreads(DEFAULTS.threads))
    .option("--seconds <s>", "target time of the timed steps per measurement (3 to 50 steps)", parseSeconds, DEFAULTS.seconds)
    .option(
      "--kernels <list>",
      "@dale/backend's kernels: dale (all), conv-grad (only its conv-gradient ones), tfjs (none); a list times each",
      parseKernels,
      parseKernels("dale"),
    )
    .option("--optimizer <name>", "Adam implementation: dale (constants kept on the device) or tfjs (tf.train.adam)", parseOptimizer, "dale")
    .option("--workers <list>", "extra worker threads for tfjs (data parallelism; 0: main thread only); a list times each", parseWorkers, parseWorkers("0"))
    .option("--no-interleave", "run all of tfjs, then all of PyTorch (default: PyTorch after each net and phase)")
    .option("--no-torch", "skip PyTorch")
    .option("--install-torch", "apt-get install -y python3-torch if torch is not importable")
    .option("--python <path>", "Python interpreter for bench_torch.py", parseNonEmpty, DEFAULT_PYTHON)
    .option("--torch-script <path>", "path of bench_torch.py (found next to the package by default)", parseNonEmpty)
    .option("--json-out <file>", "also write the report as pretty JSON to this file (relative to where pnpm ran)", parseNonEmpty)
    .showHelpAfterError("(run with --help for usage)")
    .allowExcessArguments(false);
}

/**
 * Parses argv (`process.argv` by default, or user arguments with `{ from: "user" }`). Invalid values end the process
 * with commander's message naming the option; pass a command with `exitOverride()` to get an exception instead.
 */
export function parseCli(argv: readonly string[] = process.argv, from: "node" | "user" = "node", command: Command = benchCommand()): CliOptions {
  const args = [...argv];
  // `pnpm bench:compute -- --nets small` reaches us as `main.js -- -- --nets small` (the root script ends in `--`, and
  // pnpm hands its own `--` on as well); leading `--`s mean nothing here, so drop them.
  const first = from === "node" ? 2 : 0;
  while (args[first] === "--") args.splice(first, 1);
  command.parse(args, { from });
  const o = command.opts<{
    nets: BenchNet[];
    batch: number;
    phases: Phase[];
    threads: number[];
    seconds: number;
    torch: boolean;
    installTorch?: boolean;
    python: string;
    torchScript?: string;
    jsonOut?: string;
    optimizer: "dale" | "tfjs";
    workers: number[];
    kernels: KernelSet[];
    interleave: boolean;
  }>();
  return {
    nets: o.nets,
    batch: o.batch,
    phases: o.phases,
    threads: o.threads,
    seconds: o.seconds,
    torch: o.torch,
    installTorch: o.installTorch === true,
    python: o.python,
    optimizer: o.optimizer,
    kernels: o.kernels,
    workers: o.workers,
    interleave: o.interleave,
    ...(o.torchScript !== undefined ? { torchScript: o.torchScript } : {}),
    ...(o.jsonOut !== undefined ? { jsonOut: o.jsonOut } : {}),
  };
}

/**
 * The whole CLI: parse, run, print the table and `BENCH_JSON {...}` to stdout (progress goes to stderr), write
 * --json-out. `overrides` lets another entry point (the GPU one) change the bench's options, e.g. `prefer`.
 */
export async function benchMain(argv: readonly string[] = process.argv, overrides: Partial<BenchOptions> = {}): Promise<void> {
  const { jsonOut, ...options } = parseCli(argv);
  const report = await runBench({ ...options, ...overrides });
  console.log(formatTable(report));
  console.log(benchJsonLine(report));
  if (jsonOut !== undefined) {
    // Relative to where the command was typed: pnpm runs the script in apps/compute-bench but keeps that in INIT_CWD.
    const path = resolve(process.env.INIT_CWD ?? process.cwd(), jsonOut);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`[bench] wrote ${path}`);
  }
}
