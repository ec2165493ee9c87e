import * as tf from "@tensorflow/tfjs-core";
import { gbm, type ScoreFn } from "@dale/sde";
import { lognormalMixtureScore } from "@dale/scores";
import { countNonPositive, runSampler, SAMPLER_NAMES, samplerCatalogue, samplerNfe, type SamplerName } from "@dale/samplers";
import {
  LOG_THRESHOLD,
  TOY_MIXTURE,
  TOY_SDE,
  mixtureLogCdf,
  mixtureLogMoments,
  sampleDataLog,
  sampleExactPrior,
} from "./mixture";
import { histogram, positiveLogs, quantileSorted, summarizeLog, type Histogram, type LogStats } from "./stats";
import type { TableRow } from "./table";

/**
 * The samplers the toy runs, in the order the table lists them: the multiplicative samplers of `@dale/samplers`'
 * catalogue (dale-langevin, sign-agnostic, probability-flow), which step GBM's reverse processes with the exact score.
 */
export const SAMPLERS: readonly SamplerName[] = SAMPLER_NAMES.filter((name) => samplerCatalogue[name].family === "multiplicative");

export interface ToyOptions {
  samples: number;
  steps: readonly number[];
  seed: number;
  /** Histogram bins over the figure's log-x range. Default 80. */
  bins?: number;
}

/** One sampler at one number of steps. */
export interface ToyRun extends TableRow {
  sampler: SamplerName;
  steps: number;
  nfe: number;
  seconds: number;
  histogram: Histogram;
}

export interface ToyResults {
  config: {
    samples: number;
    steps: number[];
    seed: number;
    backend: string;
    sde: typeof TOY_SDE;
    mixture: typeof TOY_MIXTURE;
    threshold: number;
  };
  /** Exact values: of log X_0 (the data) and of log X_T (the start). */
  reference: {
    data: { mean: number; std: number; pBelow: number };
    prior: { mean: number; std: number; pBelow: number };
  };
  data: { stats: LogStats; histogram: Histogram };
  runs: ToyRun[];
  /** Tensors alive after the runs minus before: 0 unless something leaked. */
  leakedTensors: number;
}

export interface ToyHooks {
  /** Before each run: its index (0-based) of `total`. */
  onRunStart?: (info: { sampler: string; steps: number; index: number; total: number }) => void;
  /** During a run, in network evaluations: `nfe` of `totalNfe` done. */
  onProgress?: (info: { sampler: string; steps: number; nfe: number; totalNfe: number }) => void;
  onRunEnd?: (run: ToyRun, index: number, total: number) => void;
}

/** The figure's log-x range: the data's 0.1% to 99.9% quantiles, widened by a third of that span on each side. */
export function histogramRange(dataLogsSorted: Float64Array): { lo: number; hi: number } {
  const a = quantileSorted(dataLogsSorted, 0.001);
  const b = quantileSorted(dataLogsSorted, 0.999);
  const pad = (b - a) / 3;
  return { lo: a - pad, hi: b + pad };
}

/**
 * Runs every sampler at every number of steps from X_T ~ p_T (exact, seeded by `seed`; the same start for every run)
 * with the exact score, and summarises log X at t = 0 against fresh data. Expects a tfjs backend to be set.
 */
export async function runToy(options: ToyOptions, hooks: ToyHooks = {}): Promise<ToyResults> {
  const { samples: n, steps: stepsList, seed } = options;
  const bins = options.bins ?? 80;
  const tensorsBefore = tf.memory().numTensors;
  const sde = gbm({ ...TOY_SDE });
  const density = lognormalMixtureScore(sde, TOY_MIXTURE);
  const score: ScoreFn = density.stein;
  const atT = { shift: sde.logMean(sde.T), extraVar: sde.logVariance(sde.T) };

  const dataLogs = sampleDataLog(n, seed).sort();
  const { lo, hi } = histogramRange(dataLogs);
  const data = { stats: summarizeLog(dataLogs, LOG_THRESHOLD), histogram: histogram(dataLogs, lo, hi, bins) };

  const runs: ToyRun[] = [];
  const total = stepsList.length * SAMPLERS.length;
  const xT = sampleExactPrior(sde, n, seed);
  try {
    for (const steps of stepsList) {
      for (const sampler of SAMPLERS) {
        const index = runs.length;
        hooks.onRunStart?.({ sampler, steps, index, total });
        const onProgress = hooks.onProgress;
        const t0 = performance.now();
        const x0 = await runSampler(sampler, {
          score,
          sde,
          xT,
          schedule: { steps },
          seed,
          ...(onProgress ? { onEvaluation: ({ nfe, totalNfe }) => onProgress({ sampler, steps, nfe, totalNfe }) } : {}),
        });
        let values: Float32Array;
        let nonPositive: number;
        try {
          values = (await x0.data()) as Float32Array;
          nonPositive = countNonPositive(x0);
        } finally {
          x0.dispose();
        }
        const seconds = (performance.now() - t0) / 1000;
        const { logs, excluded } = positiveLogs(values);
        const run: ToyRun = {
          sampler,
          steps,
          nfe: samplerNfe(sampler, { steps }),
          stats: summarizeLog(logs, LOG_THRESHOLD, excluded),
          nonPositive,
          seconds,
          histogram: histogram(logs, lo, hi, bins, n),
        };
        runs.push(run);
        hooks.onRunEnd?.(run, index, total);
      }
    }
  } finally {
    xT.dispose();
  }

  const dataRef = mixtureLogMoments(TOY_MIXTURE);
  const priorRef = mixtureLogMoments(TOY_MIXTURE, atT);
  return {
    config: { samples: n, steps: [...stepsList], seed, backend: tf.getBackend(), sde: TOY_SDE, mixture: TOY_MIXTURE, threshold: LOG_THRESHOLD },
    reference: {
      data: { mean: dataRef.mean, std: dataRef.std, pBelow: mixtureLogCdf(TOY_MIXTURE, LOG_THRESHOLD) },
      prior: { mean: priorRef.mean, std: priorRef.std, pBelow: mixtureLogCdf(TOY_MIXTURE, LOG_THRESHOLD, atT) },
    },
    data,
    runs,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

/** The table's rows: the data first, then every run. */
export function tableRows(results: ToyResults): TableRow[] {
  const dataRow: TableRow = { sampler: "data", steps: null, nfe: null, stats: results.data.stats, nonPositive: 0, seconds: null };
  return [dataRow, ...results.runs];
}
