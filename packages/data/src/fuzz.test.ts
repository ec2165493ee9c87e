// Fuzz tests of the dataset loaders (issue 15), seeded and fast: IDX headers and payloads, CIFAR-10 batches, damaged
// gzip streams and whole dataset folders. Every case must end in the correct result or an Error whose message starts
// with the function's name and names the file, within 2 s and a bounded amount of array-buffer memory.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { CIFAR_RECORD_BYTES, parseCifarBatch, parseIdxImages, parseIdxLabels, type IdxExpectation } from "./index";
import { gunzipFile, loadDataset } from "./node";

const SEED = 42;
const MiB = 2 ** 20;

/** Runs `run` and checks time and array-buffer growth; returns its result or its error. */
function measured<T>(run: () => T, maxBytes = 16 * MiB): { result?: T; error?: Error } {
  const before = process.memoryUsage().arrayBuffers;
  const start = performance.now();
  let out: { result?: T; error?: Error };
  try {
    out = { result: run() };
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor, (error as Error).message).toBe(Error); // never a bare TypeError or RangeError
    out = { error: error as Error };
  }
  expect(performance.now() - start, "time of one case").toBeLessThan(2000);
  expect(process.memoryUsage().arrayBuffers - before, "array buffers of one case").toBeLessThan(maxBytes);
  return out;
}

const u32 = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 3, 28) },
  { weight: 1, arbitrary: fc.constantFrom(784, 2 ** 16, 2 ** 31, 2 ** 32 - 1) },
  { weight: 1, arbitrary: fc.nat({ max: 2 ** 32 - 1 }) },
);
const delta = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }) });

function header(words: number[], payload: number): Uint8Array {
  const out = new Uint8Array(4 * words.length + Math.max(0, payload));
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, false));
  for (let i = 4 * words.length; i < out.length; i++) out[i] = (i * 7) % 256;
  return out;
}

describe("IDX and CIFAR-10 parsers", () => {
  it("IDX image files with any header and payload length: exactly the pixels, or an error naming the file", () => {
    const expectation = fc.option(fc.record({ count: fc.constantFrom(1, 2, 3), height: fc.constantFrom(1, 3, 28), width: fc.constantFrom(2, 3, 28), of: fc.constant("the test") }), { nil: undefined });
    fc.assert(
      fc.property(fc.oneof(fc.constant(0x803), fc.constant(0x801), fc.nat({ max: 2 ** 32 - 1 })), u32, u32, u32, delta, expectation, (magic, count, height, width, d, expected) => {
        const declared = count * height * width;
        // Small declared payloads get their size plus d; huge ones a few bytes (the parser must not trust them).
        const payload = declared <= 4096 ? declared + d : 16 + d;
        const raw = header([magic, count, height, width], payload);
        const { result, error } = measured(() => parseIdxImages("fuzz", "f.idx", raw, expected ?? {}));
        const want = magic === 0x803 && count > 0 && height > 0 && width > 0 && raw.length === 16 + declared && matches(expected, count, height, width);
        if (error !== undefined) {
          expect(error.message).toMatch(/^fuzz: f\.idx /);
          expect(want, error.message).toBe(false);
          return;
        }
        expect(want).toBe(true);
        expect(result!.count * result!.height * result!.width).toBe(result!.pixels.length);
        expect(result!.pixels).toEqual(raw.subarray(16));
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  function matches(expected: IdxExpectation | undefined, count: number, height: number, width: number): boolean {
    return expected === undefined || (expected.count === count && expected.height === height && expected.width === width);
  }

  it("IDX label files: exactly the labels, or an error naming the file", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(0x801), fc.nat({ max: 2 ** 32 - 1 })), u32, delta, fc.option(fc.constantFrom(1, 2, 3, 28), { nil: undefined }), (magic, count, d, want) => {
        const raw = header([magic, count], count <= 4096 ? count + d : 8 + d);
        const { result, error } = measured(() => parseIdxLabels("fuzz", "f.idx", raw, want === undefined ? {} : { count: want }));
        const ok = magic === 0x801 && count > 0 && raw.length === 8 + count && (want === undefined || want === count);
        if (error !== undefined) {
          expect(error.message).toMatch(/^fuzz: f\.idx /);
          expect(ok, error.message).toBe(false);
          return;
        }
        expect(ok).toBe(true);
        expect(result).toEqual(raw.subarray(8));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("CIFAR-10 batches of any length and labels: exactly the NHWC records, or an error naming the file", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: -3, max: 3 }),
        fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 9 }) }, { weight: 1, arbitrary: fc.integer({ min: 10, max: 255 }) }), { minLength: 3, maxLength: 3 }),
        fc.constantFrom(null, 1, 2, 3, 10000),
        (records, d, labels, expected) => {
          const raw = new Uint8Array(Math.max(0, records * CIFAR_RECORD_BYTES + (records > 0 ? d : Math.abs(d))));
          for (let i = 0; i < raw.length; i++) raw[i] = (i * 13) % 256;
          for (let r = 0; r < records; r++) if (r * CIFAR_RECORD_BYTES < raw.length) raw[r * CIFAR_RECORD_BYTES] = labels[r]!;
          const { result, error } = measured(() => parseCifarBatch("fuzz", "f.bin", raw, expected));
          const whole = raw.length > 0 && raw.length % CIFAR_RECORD_BYTES === 0;
          const n = raw.length / CIFAR_RECORD_BYTES;
          const ok = whole && (expected === null || expected === n) && labels.slice(0, n).every((y) => y <= 9);
          if (error !== undefined) {
            expect(error.message).toMatch(/^fuzz: f\.bin /);
            expect(ok, error.message).toBe(false);
            return;
          }
          expect(ok).toBe(true);
          expect(result!.count).toBe(n);
          // NHWC: pixel p of record r is (R, G, B) from the three planes.
          for (const [r, p] of [
            [0, 0],
            [n - 1, 1023],
          ] as const) {
            const at = r * CIFAR_RECORD_BYTES + 1 + p;
            expect(Array.from(result!.images.subarray((r * 1024 + p) * 3, (r * 1024 + p) * 3 + 3))).toEqual([raw[at], raw[at + 1024], raw[at + 2048]]);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("damaged gzip streams: the data, capped at the limit, or an error naming the file", () => {
    const data = new Uint8Array(64 * 1024).map((_, i) => (i * 31) % 251);
    const gz = gzipSync(data);
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.constantFrom(1, 1000, 64 * 1024, 64 * 1024 + 1, MiB),
        (edits, cut, limit) => {
          let bytes = gz.slice();
          for (const e of edits) bytes[e.at % bytes.length] = e.value;
          if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          const { result, error } = measured(() => gunzipFile("fuzz", "f.gz", bytes, { bytes: limit, what: "the test" }));
          if (error !== undefined) {
            expect(error.message).toMatch(/^fuzz: f\.gz (is not a complete gzip stream|decompresses to more than \d+ bytes)/);
            return;
          }
          expect(result!.length).toBeLessThanOrEqual(limit);
          // gzip's CRC-32 and length catch damage: whatever comes out is the original.
          expect(Buffer.from(result!).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe("loadDataset on damaged dataset folders", () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  const images = new Uint8Array(16 + 10000 * 784);
  new DataView(images.buffer).setUint32(0, 0x803);
  new DataView(images.buffer).setUint32(4, 10000);
  new DataView(images.buffer).setUint32(8, 28);
  new DataView(images.buffer).setUint32(12, 28);
  for (let i = 16; i < images.length; i++) images[i] = i % 256;
  const labels = new Uint8Array(8 + 10000);
  new DataView(labels.buffer).setUint32(0, 0x801);
  new DataView(labels.buffer).setUint32(4, 10000);
  for (let i = 8; i < labels.length; i++) labels[i] = i % 10;

  const field = fc.record({ word: fc.integer({ min: 0, max: 3 }), value: u32 });
  const damage = fc.record({
    imageFields: fc.array(field, { maxLength: 2 }),
    labelFields: fc.array(fc.record({ word: fc.integer({ min: 0, max: 1 }), value: u32 }), { maxLength: 1 }),
    imageDelta: delta,
    label: fc.option(fc.record({ at: fc.integer({ min: 0, max: 9999 }), value: fc.integer({ min: 0, max: 255 }) }), { nil: undefined }),
    cutGzip: fc.option(fc.nat(), { nil: undefined }),
  });

  it("a correct dataset, or an error that starts with loadDataset and names the file", async () => {
    await fc.assert(
      fc.asyncProperty(damage, async (d) => {
        const img = new Uint8Array(Math.max(0, images.length + d.imageDelta));
        img.set(images.subarray(0, img.length));
        for (const f of d.imageFields) new DataView(img.buffer).setUint32(4 * f.word, f.value);
        const lab = labels.slice();
        for (const f of d.labelFields) new DataView(lab.buffer).setUint32(4 * f.word, f.value);
        if (d.label !== undefined) lab[8 + d.label.at] = d.label.value;
        let imgGz: Uint8Array = gzipSync(img, { level: 1 });
        if (d.cutGzip !== undefined) imgGz = imgGz.subarray(0, d.cutGzip % imgGz.length);
        const root = mkdtempSync(join(tmpdir(), "dale-data-fuzz-"));
        roots.push(root);
        const folder = join(root, "mnist");
        mkdirSync(folder);
        const files: Record<string, Uint8Array> = { "t10k-images-idx3-ubyte.gz": imgGz, "t10k-labels-idx1-ubyte.gz": gzipSync(lab, { level: 1 }) };
        for (const [name, bytes] of Object.entries(files)) writeFileSync(join(folder, name), bytes);
        const sums = Object.entries(files).map(([name, bytes]) => `${createHash("sha256").update(bytes).digest("hex")}  ${name}`);
        writeFileSync(join(folder, "SHA256SUMS"), `${sums.join("\n")}\n`);

        const before = process.memoryUsage().arrayBuffers;
        const start = performance.now();
        const outcome = await loadDataset("mnist", { split: "test", dir: root }).then(
          (ds) => ({ ds }),
          (error: unknown) => ({ error }),
        );
        expect(performance.now() - start).toBeLessThan(2000);
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(48 * MiB);
        rmSync(root, { recursive: true, force: true });
        const intact = Buffer.from(img).equals(Buffer.from(images)) && Buffer.from(lab).equals(Buffer.from(labels)) && d.cutGzip === undefined;
        if ("error" in outcome) {
          const error = outcome.error as Error;
          expect(error.constructor).toBe(Error);
          expect(error.message).toMatch(/^loadDataset: /);
          expect(error.message).toContain(folder);
          // Damage the checks must not miss; a label edit to another digit, or a header rewritten to its own value, is
          // not damage they can see.
          expect(intact, error.message).toBe(false);
          return;
        }
        const { ds } = outcome;
        expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([10000, 28, 28, 1]);
        expect(ds.images.length).toBe(10000 * 784);
        expect(Buffer.from(ds.images).equals(Buffer.from(img.subarray(16)))).toBe(true);
        expect(Buffer.from(ds.labels).equals(Buffer.from(lab.subarray(8)))).toBe(true);
        expect(ds.labels.every((y) => y <= 9)).toBe(true);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
