import type * as tf from "@tensorflow/tfjs-core";
import type { AnySDE, ScoreFn } from "@dale/sde";
import { runSampler, type SamplerProgress } from "./run-sampler";
import { samplerNfe, type SamplerName, type SamplerSchedule } from "./sampler-catalogue";
import type { Denoiser } from "./solvers";

/**
 * Progress of {@link sampleBatches}: `nfe` of `totalNfe` network evaluations for the images `done` to
 * `done + batchSize`, with the current batch's state views of {@link SamplerProgress} (`x`, `denoised`).
 */
export interface BatchProgress extends SamplerProgress {
  done: number;
  batchSize: number;
  total: number;
}

/** Options of {@link sampleBatches}. */
export interface SampleBatchesOptions {
  score: ScoreFn;
  denoiser?: Denoiser;
  sde: AnySDE;
  schedule: SamplerSchedule;
  /** The shape of one sample (without the batch axis). */
  shape: readonly number[];
  n: number;
  batch: number;
  seed: number;
  signal?: AbortSignal;
  onEvaluation?: (progress: BatchProgress) => void;
}

/**
 * Draws `n` samples in batches of `batch`: batch b starts from the prior drawn with seed `(seed * 1000003 + 2b) | 0`
 * and runs `runSampler` with the noise seed `(seed * 1000003 + 2b + 1) | 0`, so the result depends on the batch size
 * but on nothing else. Yields each batch's x_0 (with where it starts); the caller owns and disposes it.
 *
 * @example
 * for await (const { x0, start } of sampleBatches("heun", { score, sde, schedule: { steps: 18 }, shape: [28, 28, 1], n: 64, batch: 32, seed: 0 })) {
 *   out.set(await x0.data(), start * 784);
 *   x0.dispose();
 * }
 */
export async function* sampleBatches(name: SamplerName, o: SampleBatchesOptions): AsyncGenerator<{ x0: tf.Tensor; start: number; size: number }> {
  const totalNfe = samplerNfe(name, o.schedule);
  for (let start = 0, b = 0; start < o.n; start += o.batch, b++) {
    o.signal?.throwIfAborted();
    const size = Math.min(o.batch, o.n - start);
    const xT = o.sde.prior.sample([size, ...o.shape], (o.seed * 1_000_003 + 2 * b) | 0);
    let x0: tf.Tensor;
    try {
      x0 = await runSampler(name, {
        score: o.score,
        ...(o.denoiser ? { denoiser: o.denoiser } : {}),
        sde: o.sde,
        xT,
        schedule: o.schedule,
        seed: (o.seed * 1_000_003 + 2 * b + 1) | 0,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onEvaluation ? { onEvaluation: (p: SamplerProgress) => o.onEvaluation?.({ ...p, totalNfe, done: start, batchSize: size, total: o.n }) } : {}),
      });
    } finally {
      xT.dispose();
    }
    yield { x0, start, size };
  }
}
