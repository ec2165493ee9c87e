import { int, list } from "@dale/cli-kit";
import { Command, InvalidArgumentError } from "commander";

/** What the CLI runs. */
export interface CliOptions {
  samples: number;
  steps: number[];
  seed: number;
  /** Output folder (resolved against the working directory by the caller). */
  out: string;
}

export const DEFAULTS = { samples: 20000, steps: "1000,20,10,5", seed: 0, out: "out" } as const;
export const QUICK = { samples: 2000, steps: "100,10" } as const;

const MAX_SAMPLES = 10_000_000;
const MAX_STEPS = 100_000;

/** `--samples`: an integer in [2, 10^7]. */
export const parseSamples = int("the number of samples", 2, MAX_SAMPLES);

/** `--steps`: a comma-separated list of distinct integers in [1, 10^5], e.g. "1000,20,10,5". */
export const parseSteps = list("--steps", int("every step count", 1, MAX_STEPS), { distinct: true });

/** `--seed`: an integer in [0, 2^31 - 1]. */
export const parseSeed = int("the seed", 0, 2 ** 31 - 1);

function parseOut(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("the output folder must not be empty.");
  return value;
}

/** The toy's command line, without parsing it (commander's `Command`). */
export function toyCommand(): Command {
  return new Command("toy")
    .description(
      "Runs every Dale sampler on the paper's 1-D mixture of log-normals with its exact score, starting from the exact " +
        "p_T, prints statistics of log X against the data and writes toy-results.json and toy-histograms.png.",
    )
    .option("--samples <n>", "number of samples per run, and of data draws", parseSamples, DEFAULTS.samples)
    .option("--steps <list>", "comma-separated numbers of time levels", DEFAULTS.steps)
    .option("--seed <n>", "seed of the start, the data and the samplers' noise", parseSeed, DEFAULTS.seed)
    .option("--out <dir>", "output folder, relative to the working directory", parseOut, DEFAULTS.out)
    .option("--quick", `a fast check: --samples ${QUICK.samples} --steps ${QUICK.steps} (explicit options still win)`)
    .showHelpAfterError("(run with --help for usage)")
    .allowExcessArguments(false);
}

/**
 * Parses argv (`process.argv` by default, or user arguments with `{ from: "user" }`). Invalid values end the process
 * with commander's message naming the option, e.g. `error: option '--samples <n>' argument 'x' is invalid. ...`;
 * pass a command with `exitOverride()` to get an exception instead.
 */
export function parseCli(argv: readonly string[] = process.argv, from: "node" | "user" = "node", command: Command = toyCommand()): CliOptions {
  const args = [...argv];
  // `pnpm start -- --quick` hands the "--" on to the script; it means nothing here, so drop it.
  const first = from === "node" ? 2 : 0;
  if (args[first] === "--") args.splice(first, 1);
  command.parse(args, { from });
  const o = command.opts<{ samples: number; steps: string; seed: number; out: string; quick?: boolean }>();
  const quick = o.quick === true;
  const explicit = (name: string) => command.getOptionValueSource(name) === "cli";
  const samples = quick && !explicit("samples") ? QUICK.samples : o.samples;
  const stepsText = quick && !explicit("steps") ? QUICK.steps : o.steps;
  let steps: number[];
  try {
    steps = parseSteps(stepsText);
  } catch (e) {
    // Parsed here rather than by commander so that --quick can replace the default list; report it the same way.
    command.error(`error: option '--steps <list>' argument '${stepsText}' is invalid. ${(e as Error).message}`, {
      code: "commander.invalidArgument",
      exitCode: 1,
    });
  }
  return { samples, steps, seed: o.seed, out: o.out };
}
