// The parsers of dale-bench's --samplers and --models (@dale/cli-kit's `list` and `oneOf`). Each throws commander's
// InvalidArgumentError with a message that names the option, which commander prints after the text it got.
import { list, oneOf, type ArgParser } from "@dale/cli-kit";
import { InvalidArgumentError } from "commander";
import { BENCH_PROCESSES, BENCH_SAMPLERS, type BenchProcess, type BenchSampler } from "./plan";

/** `--samplers dale-langevin,heun`: names from `BENCH_SAMPLERS` (the reference samplers and the solvers' catalogue); repeats are dropped later. */
export const samplersOption: ArgParser<BenchSampler[]> = list("--samplers", oneOf("every item of --samplers", BENCH_SAMPLERS));

/** The checkpoints of `--models`, by process, as given (a dale-train checkpoint or --out folder, or a dale-export folder). */
export type ModelPaths = Partial<Record<BenchProcess, string>>;

/**
 * `--models gbm=DIR,vp=DIR` (either or both): the existing checkpoint each named process is evaluated from, instead of
 * training one.
 * @example modelsOption("gbm=checkpoints/mnist-gbm, vp=checkpoints/mnist-vp") // { gbm: "checkpoints/mnist-gbm", vp: "checkpoints/mnist-vp" }
 */
export const modelsOption: ArgParser<ModelPaths> = (value) => {
  const items = list("--models", (item): [BenchProcess, string] => {
    const eq = item.indexOf("=");
    if (eq < 0) throw new InvalidArgumentError(`every item of --models must be PROCESS=DIR (e.g. gbm=checkpoints/mnist-gbm), got "${item}".`);
    const process = oneOf("the process of every item of --models", BENCH_PROCESSES)(item.slice(0, eq).trim());
    const dir = item.slice(eq + 1).trim();
    if (dir === "") throw new InvalidArgumentError(`every item of --models needs a checkpoint folder after "${process}=", got "${item}".`);
    return [process, dir];
  })(value);
  const out: ModelPaths = {};
  for (const [process, dir] of items) {
    if (out[process] !== undefined) throw new InvalidArgumentError(`--models names ${process} more than once, in "${value}".`);
    out[process] = dir;
  }
  return out;
};
