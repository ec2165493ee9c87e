import { below, xoshiro128 } from "@dale/random";

export interface BatchOptions {
  batchSize: number;
  /** Integer seed: the same seed gives the same sequence of batches. */
  seed: number;
  /** Drop each epoch's last, smaller batch (default false). */
  dropLast?: boolean;
  /** Number of passes over the data; omit for an endless iterator. */
  epochs?: number;
}

/**
 * Seeded shuffled minibatches of indices `0..count-1`: each epoch is a fresh Fisher-Yates permutation drawn from one
 * seeded generator, cut into `Int32Array` batches of `batchSize`. Every index appears exactly once per epoch.
 *
 * @example
 * for (const idx of batches(60000, { batchSize: 128, seed: 0, epochs: 1 })) {
 *   const x = toTensor(train, { indices: idx });
 *   // ...
 *   x.dispose();
 * }
 */
export function* batches(count: number, options: BatchOptions): Generator<Int32Array, void, undefined> {
  const fn = "batches";
  if (!Number.isInteger(count) || count < 1) throw new Error(`${fn}: count must be a positive integer, got ${count}.`);
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object with batchSize and seed.`);
  const { batchSize, seed, dropLast = false, epochs } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: options.batchSize must be a positive integer, got ${batchSize}.`);
  if (!Number.isInteger(seed)) throw new Error(`${fn}: options.seed must be an integer, got ${seed}.`);
  if (epochs !== undefined && (!Number.isInteger(epochs) || epochs < 0)) {
    throw new Error(`${fn}: options.epochs must be a non-negative integer or undefined (endless), got ${epochs}.`);
  }
  if (dropLast && batchSize > count) {
    throw new Error(`${fn}: options.batchSize (${batchSize}) exceeds count (${count}) with dropLast: true, so no batch would ever be produced.`);
  }
  const next = xoshiro128(seed, 0x6261, fn);
  const order = new Int32Array(count);
  for (let epoch = 0; epochs === undefined || epoch < epochs; epoch++) {
    for (let i = 0; i < count; i++) order[i] = i;
    for (let i = count - 1; i > 0; i--) {
      const j = below(next, i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let start = 0; start < count; start += batchSize) {
      const end = Math.min(start + batchSize, count);
      if (dropLast && end - start < batchSize) break;
      yield order.slice(start, end);
    }
  }
}
