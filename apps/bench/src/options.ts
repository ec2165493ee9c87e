// The parsers of dale-bench's --samplers, --models and --guides (@dale/cli-kit's `list` and `oneOf`). Each throws commander's
// InvalidArgumentError with a message that names the option, which commander prints after the text it got.
import { list, oneOf, type ArgParser } from "@dale/cli-kit";
import { InvalidArgumentError } from "commander";
import { BENCH_PROCESSES, BENCH_SAMPLERS, type BenchProcess, type BenchSampler } from "./plan";

/** `--samplers dale-langevin,heun`: names from `BENCH_SAMPLERS` (the reference samplers and the solvers' catalogue); repeats are dropped later. */
export const samplersOption: ArgParser<BenchSampler[]> = list("--samplers", oneOf("every item of --samplers", BENCH_SAMPLERS));

/** The checkpoints of `--models`, by process, as given (a dale-train checkpoint or --out folder, or a dale-export folder). */
export type ModelPaths = Partial<Record<BenchProcess, string>>;

/**
 * A list of PROCESS=DIR items (`--models`, `--guides`): a checkpoint folder per process, each process at most once.
 * The errors name `flag`.
 */
function processPaths(flag: string, example: string): ArgParser<ModelPaths> {
  return (value) => {
    const items = list(flag, (item): [BenchProcess, string] => {
      const eq = item.indexOf("=");
      if (eq < 0) throw new InvalidArgumentError(`every item of ${flag} must be PROCESS=DIR (e.g. ${example}), got "${item}".`);
      const process = oneOf(`the process of every item of ${flag}`, BENCH_PROCESSES)(item.slice(0, eq).trim());
      const dir = item.slice(eq + 1).trim();
      if (dir === "") throw new InvalidArgumentError(`every item of ${flag} needs a checkpoint folder after "${process}=", got "${item}".`);
      return [process, dir];
    })(value);
    const out: ModelPaths = {};
    for (const [process, dir] of items) {
      if (out[process] !== undefined) throw new InvalidArgumentError(`${flag} names ${process} more than once, in "${value}".`);
      out[process] = dir;
    }
    return out;
  };
}

/**
 * `--models gbm=DIR,vp=DIR` (either or both): the existing checkpoint each named process is evaluated from, instead of
 * training one.
 * @example modelsOption("gbm=checkpoints/mnist-gbm, vp=checkpoints/mnist-vp") // { gbm: "checkpoints/mnist-gbm", vp: "checkpoints/mnist-vp" }
 */
export const modelsOption: ArgParser<ModelPaths> = processPaths("--models", "gbm=checkpoints/mnist-gbm");

/**
 * `--guides gbm=DIR,vp=DIR` (either or both): autoguidance (Karras et al. 2024, arXiv 2406.02507). The guide of a
 * process is a weaker checkpoint of the same process and data (e.g. an earlier or smaller one); each solver row of that
 * process gets a guided twin, sampled with D_guide + w (D - D_guide).
 * @example guidesOption("gbm=checkpoints/mnist-gbm/guide") // { gbm: "checkpoints/mnist-gbm/guide" }
 */
export const guidesOption: ArgParser<ModelPaths> = processPaths("--guides", "gbm=checkpoints/mnist-gbm/guide");
