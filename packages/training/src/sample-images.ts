// Sampling images from a trained model: the inverse pixel transform around `sampleBatches` of @dale/samplers (batches
// and their seeds), whose catalogue (names, process family, NFE per step) every app imports.
import { checkSampler, sampleBatches, type Denoiser, type SamplerName, type SamplerSchedule } from "@dale/samplers";
import type { AnySDE, ScoreFn } from "@dale/sde";
import type { Transform } from "./config";
import { inverse } from "./data";

/**
 * Draws `n` images in batches of `batch` from the prior at T and runs the sampler; returns them as `[n, H, W, C]`
 * float32 values in [0, 1] after the inverse pixel transform. Batch b uses seeds (seed, 2b) for the prior and
 * (seed, 2b + 1) for the sampler noise, so the result depends on the batch size but not on anything else.
 */
export async function sampleImages(options: {
  score: ScoreFn;
  /** The model's denoiser, for the solvers; default the score's through Tweedie's formula (`denoiserFromScore`). */
  denoiser?: Denoiser;
  sde: AnySDE;
  sampler: SamplerName;
  schedule: SamplerSchedule;
  transform: Transform;
  shape: [number, number, number];
  n: number;
  batch: number;
  seed: number;
  onBatch?: (done: number, total: number) => void;
  /** Called after every network evaluation of every batch: `nfe` of `totalNfe` for the images `done` to `done + m`. */
  onEvaluation?: (progress: { nfe: number; totalNfe: number; done: number; batchSize: number; total: number }) => void;
}): Promise<Float32Array> {
  const { score, sde, sampler, schedule, transform, shape, n, batch, seed } = options;
  checkSampler(sampler, sde);
  const size = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(n * size);
  const batches = sampleBatches(sampler, {
    score,
    ...(options.denoiser ? { denoiser: options.denoiser } : {}),
    sde,
    schedule,
    shape,
    n,
    batch,
    seed,
    ...(options.onEvaluation ? { onEvaluation: options.onEvaluation } : {}),
  });
  for await (const { x0, start, size: m } of batches) {
    const pixels = inverse(x0, transform);
    x0.dispose();
    out.set(await pixels.data(), start * size);
    pixels.dispose();
    options.onBatch?.(start + m, n);
  }
  return out;
}
