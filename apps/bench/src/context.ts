// What every stage of a benchmark run is given: the run folder, the profile, the datasets and the run's options.
import type { ModelPaths } from "./options";
import { BENCH_PROCESSES, type BenchDataset, type BenchProcess, type Profile } from "./plan";
import type { Progress } from "./progress";
import type { BenchStore } from "./store";

/** The feature network of the metrics: a classifier Dale trains per dataset, or the FID Inception-v3 with its weights. */
export type FeatureChoice = { kind: "classifier" } | { kind: "inception"; weights: string };

export interface RunContext {
  store: BenchStore;
  profile: Profile;
  datasets: readonly BenchDataset[];
  seed: number;
  dataDir: string | undefined;
  progress: Progress;
  /** The feature network of the metrics. */
  features: FeatureChoice;
  /** Models trained at the same time, each in a worker thread of its own (the prepare stage); 1: in this thread. */
  jobs: number;
  /**
   * Existing checkpoints to evaluate instead of training (`--models`), by process, as absolute paths; only when the
   * run has a single dataset.
   */
  models: ModelPaths;
  /**
   * Autoguidance (`--guides`, `--guidance`): the guide checkpoint of each guided process, as absolute paths (a single
   * dataset), and the weight w of D_guide + w (D - D_guide). Each solver row of a guided process gets a guided twin.
   */
  guides: { paths: ModelPaths; weight: number };
}

/** The processes of a run that have a guide (`--guides`), in BENCH_PROCESSES order. */
export function guidedProcesses(ctx: Pick<RunContext, "guides">): BenchProcess[] {
  return BENCH_PROCESSES.filter((p) => ctx.guides.paths[p] !== undefined);
}
