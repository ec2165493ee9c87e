// Fuzz tests of the safetensors codec (issue 15), seeded and fast: round trips, generated headers checked against an
// independent reading of the bytes, and random edits of encoded files. Every case must end in the correct tensors or
// an Error whose message starts with the file's name (decodeSafetensors' `source`), within 2 s and 16 MiB.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { float16ToFloat32, float32ToFloat16 } from "./float16";
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile } from "./safetensors";

const SEED = 42;
const SOURCE = "fuzz.safetensors";

/** Decodes with the checks every case shares; returns the file, or undefined when it threw a named error. */
function decodeChecked(bytes: Uint8Array): SafetensorsFile | undefined {
  const before = process.memoryUsage().arrayBuffers;
  const start = performance.now();
  let file: SafetensorsFile | undefined;
  try {
    file = decodeSafetensors(bytes, SOURCE);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor, (error as Error).message).toBe(Error);
    expect((error as Error).message).toMatch(new RegExp(`^${SOURCE.replace(".", "\\.")}: `));
  }
  expect(performance.now() - start).toBeLessThan(2000);
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
  if (file !== undefined) {
    for (const [name, t] of file.tensors) expect(t.data.length, name).toBe(t.shape.reduce((a, b) => a * b, 1));
    for (const v of Object.values(file.metadata)) expect(typeof v).toBe("string");
  }
  return file;
}

const name = fc.oneof(fc.constantFrom("w", "b.w", "__proto__", "constructor", "a b", "é"), fc.string({ maxLength: 8 }));
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const tensorsArb = fc.uniqueArray(fc.tuple(name, shapeArb), { selector: ([n]) => n, maxLength: 4 }).map((entries) =>
  entries
    .filter(([n]) => n !== "__metadata__")
    .map(([n, shape], k): [string, { data: Float32Array; shape: number[] }] => {
      const size = shape.reduce((a, b) => a * b, 1);
      return [n, { shape, data: Float32Array.from({ length: size }, (_, i) => Math.sin(7 * i + k) * 10 ** (i % 5)) }];
    }),
);

describe("safetensors fuzz", () => {
  it("round trips: F32 exactly, F16 as float16 rounds, metadata as written", () => {
    fc.assert(
      fc.property(tensorsArb, fc.constantFrom("F32" as const, "F16" as const), fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), (entries, dtype, metadata) => {
        const file = decodeChecked(encodeSafetensors(entries, { dtype, metadata }));
        expect(file).toBeDefined();
        // Every tensor, in the order of its data (JSON moves integer-like names such as "0" first in the header).
        expect([...file!.tensors.keys()].sort()).toEqual(entries.map(([n]) => n).sort());
        const withData = entries.filter(([, t]) => t.data.length > 0).map(([n]) => n);
        expect([...file!.tensors.keys()].filter((n) => withData.includes(n))).toEqual(withData);
        for (const [n, t] of entries) {
          const got = file!.tensors.get(n)!;
          expect(got.shape).toEqual(t.shape);
          const want = dtype === "F32" ? t.data : t.data.map((v) => float16ToFloat32(float32ToFloat16(v)));
          expect(Array.from(got.data)).toEqual(Array.from(want));
        }
        expect(file!.metadata).toEqual(metadata);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  // Headers built from parts that are each sometimes wrong, with the data laid out as the header says.
  const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 4 }), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
  const entryArb = fc.record({
    name: name,
    dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("F32", "F16") }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom("BF16", "I64", "f32"), anyJson) }),
    shape: fc.oneof({ weight: 6, arbitrary: shapeArb }, { weight: 1, arbitrary: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -2, max: 3 }), fc.double(), fc.constant(2 ** 60)), { maxLength: 3 }), anyJson) }),
    /** Offsets: the contiguous ones, moved by this many bytes (0 mostly), or anything. */
    offsets: fc.oneof({ weight: 6, arbitrary: fc.tuple(fc.constant(0), fc.constant(0)) }, { weight: 1, arbitrary: fc.tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 })) }),
    weird: fc.option(anyJson, { nil: undefined, freq: 10 }),
  });
  const headerArb = fc.record({
    entries: fc.array(entryArb, { maxLength: 4 }),
    metadata: fc.option(fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }), anyJson), { nil: undefined }),
    dataDelta: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }) }),
    lengthDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.bigInt({ min: -16n, max: 2n ** 64n - 1n }) }),
    topLevel: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyJson }),
  });

  it("generated headers: exactly the values at the offsets they name, or a named error", () => {
    let read = 0;
    fc.assert(
      fc.property(headerArb, (h) => {
        const header: Record<string, unknown> = {};
        const layout: { name: string; begin: number; end: number; dtype: string; shape: number[] }[] = [];
        let offset = 0;
        for (const e of h.entries) {
          const size = Array.isArray(e.shape) && e.shape.every((d) => typeof d === "number") ? (e.shape as number[]).reduce((a, b) => a * b, 1) : 0;
          const bytes = Number.isSafeInteger(size) && size >= 0 ? size * (e.dtype === "F16" ? 2 : 4) : 0;
          const begin = offset + e.offsets[0];
          const end = offset + bytes + e.offsets[1];
          header[e.name] = e.weird !== undefined ? e.weird : { dtype: e.dtype, shape: e.shape, data_offsets: [begin, end] };
          layout.push({ name: e.name, begin, end, dtype: String(e.dtype), shape: e.shape as number[] });
          offset += bytes;
        }
        if (h.metadata !== undefined) header.__metadata__ = h.metadata;
        const json = new TextEncoder().encode(JSON.stringify(h.topLevel === undefined ? header : h.topLevel));
        const dataLength = Math.max(0, offset + h.dataDelta);
        const bytes = new Uint8Array(8 + json.length + dataLength);
        const view = new DataView(bytes.buffer);
        view.setBigUint64(0, BigInt.asUintN(64, BigInt(json.length) + h.lengthDelta), true);
        bytes.set(json, 8);
        for (let i = 8 + json.length; i < bytes.length; i++) bytes[i] = (i * 37) % 256;
        const file = decodeChecked(bytes);
        if (file === undefined) return;
        read++;
        // What was read is what the bytes hold: each tensor at its offsets, little-endian.
        const dataStart = 8 + Number(BigInt.asUintN(64, BigInt(json.length) + h.lengthDelta));
        for (const [n, t] of file.tensors) {
          const entry = layout.filter((e) => e.name === n).pop()!; // JSON keeps the last of duplicate names
          expect(t.dtype).toBe(entry.dtype);
          const want = Array.from({ length: t.data.length }, (_, i) =>
            t.dtype === "F32" ? view.getFloat32(dataStart + entry.begin + 4 * i, true) : float16ToFloat32(view.getUint16(dataStart + entry.begin + 2 * i, true)),
          );
          expect(Array.from(t.data), n).toEqual(want);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
    expect(read).toBeGreaterThan(50);
  });

  it("random edits of encoded files: a result or a named error", () => {
    const original = encodeSafetensors(
      { w: { data: Float32Array.from({ length: 12 }, (_, i) => i - 3.5), shape: [3, 4] }, b: { data: Float32Array.of(1, 2), shape: [2] } },
      { metadata: { kind: "test", step: "3" } },
    );
    const edit = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let b = original;
        for (const e of edits) {
          const at = b.length === 0 ? 0 : e.at % b.length;
          if (e.kind === "set") {
            b = b.slice();
            if (b.length > 0) b[at] = e.value;
          } else if (e.kind === "insert") b = new Uint8Array([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
          else if (e.kind === "delete") b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + e.length)]);
          else b = b.slice(0, at);
        }
        decodeChecked(b);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("any value passed as the bytes: a named error, not a TypeError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.constant(new ArrayBuffer(16)), fc.constant(new Float32Array(4)), fc.constant(new DataView(new ArrayBuffer(8)))), (value) => {
        try {
          decodeSafetensors(value as Uint8Array, SOURCE);
        } catch (error) {
          expect((error as Error).constructor, String(error)).toBe(Error);
          expect((error as Error).message).toMatch(/^(decodeSafetensors|fuzz\.safetensors): /);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
