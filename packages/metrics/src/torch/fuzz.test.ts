// Fuzz tests of the .pth reader (issue 15), seeded and fast: generated state dicts checked against an independent
// gather, random edits of real torch files, random opcode streams and damaged zip containers. Every case must end in
// a correct result or an Error whose message starts with "readTorchStateDict: ", within 2 s and 16 MiB of array
// buffers, under small limits.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { float16ToFloat32 } from "@dale/io";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UnsafePickleError, readTorchStateDict, type ReadTorchOptions, type TorchStateDict } from "./index";
import { ascii, legacyFile, measure, op, tensorOps, torchZip, zipArchive, type TensorSpec } from "./__fixtures__/torch-files";

const SEED = 42;
const MiB = 2 ** 20;
const LIMITS = { maxBytes: 4 * MiB, maxTensorBytes: MiB, maxDepth: 16 } as const satisfies ReadTorchOptions;
const CASE_MS = 2000;
const CASE_BYTES = 16 * MiB;

/** Reads `bytes` and checks the outcome's form; returns the result, or undefined when the read threw as it should. */
function readChecked(bytes: Uint8Array, options: ReadTorchOptions = LIMITS): TorchStateDict | undefined {
  const m = measure(() => readTorchStateDict(bytes, { source: "fuzz.pth", ...options }));
  expect(m.ms, "time of one case").toBeLessThan(CASE_MS);
  expect(m.arrayBytes, "array buffers of one case").toBeLessThan(CASE_BYTES);
  if (m.error !== undefined) {
    expect(m.error).toBeInstanceOf(Error);
    const error = m.error as Error;
    expect(error.constructor === Error || error instanceof UnsafePickleError, `${error.name}: ${error.message}`).toBe(true);
    expect(error.message).toMatch(/^readTorchStateDict: fuzz\.pth/);
    expect(error.message).not.toMatch(/internal error/);
    return undefined;
  }
  const sd = m.result as TorchStateDict;
  for (const [key, t] of sd.tensors) {
    expect(t.data.length, key).toBe(t.shape.reduce((a, b) => a * b, 1));
  }
  return sd;
}

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url))));

// ---- Generated state dicts, with an oracle --------------------------------------------------------------------------

const DTYPES = {
  FloatStorage: { size: 4, out: 4 },
  HalfStorage: { size: 2, out: 4 },
  BFloat16Storage: { size: 2, out: 4 },
  DoubleStorage: { size: 8, out: 8 },
  LongStorage: { size: 8, out: 8 },
  IntStorage: { size: 4, out: 4 },
  ShortStorage: { size: 2, out: 2 },
  CharStorage: { size: 1, out: 1 },
  ByteStorage: { size: 1, out: 1 },
  BoolStorage: { size: 1, out: 1 },
} as const;
type StorageClass = keyof typeof DTYPES;

/** An element decoded independently of the reader (typed arrays over a copy, bit shifts for bfloat16). */
function element(cls: StorageClass, bytes: Uint8Array, i: number): number | bigint {
  const size = DTYPES[cls].size;
  const b = bytes.slice(i * size, (i + 1) * size);
  switch (cls) {
    case "FloatStorage":
      return new Float32Array(b.buffer)[0]!;
    case "HalfStorage":
      return float16ToFloat32(new Uint16Array(b.buffer)[0]!);
    case "BFloat16Storage":
      return new Float32Array(new Uint32Array([new Uint16Array(b.buffer)[0]! << 16]).buffer)[0]!;
    case "DoubleStorage":
      return new Float64Array(b.buffer)[0]!;
    case "LongStorage":
      return new BigInt64Array(b.buffer)[0]!;
    case "IntStorage":
      return new Int32Array(b.buffer)[0]!;
    case "ShortStorage":
      return new Int16Array(b.buffer)[0]!;
    case "CharStorage":
      return new Int8Array(b.buffer)[0]!;
    case "ByteStorage":
      return b[0]!;
    case "BoolStorage":
      return b[0] === 0 ? 0 : 1;
  }
}

interface StorageGen {
  cls: StorageClass;
  numel: number;
  /** Bytes missing (< 0) or extra (> 0) after numel * size. */
  delta: number;
  seed: number;
}
interface TensorGen {
  storage: number;
  offset: number;
  shape: number[];
  stride: number[];
  /** Where the tensor sits: a path of container kinds ("dict" or "list") from the root dict. */
  path: ("dict" | "list")[];
}
interface DictGen {
  storages: StorageGen[];
  tensors: TensorGen[];
  container: "zip" | "deflated" | "legacy";
  /** A tensor that names a storage key the file lacks. */
  missing: boolean;
}

const dim = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(1000, 2 ** 16, 2 ** 31 - 1, 2 ** 40) });
const strideArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(64, 2 ** 20, 2 ** 40) });
const dictArb: fc.Arbitrary<DictGen> = fc
  .record({
    storages: fc.array(
      fc.record({
        cls: fc.constantFrom(...(Object.keys(DTYPES) as StorageClass[])),
        numel: fc.integer({ min: 0, max: 48 }),
        delta: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    tensors: fc.array(
      fc.integer({ min: 0, max: 4 }).chain((rank) =>
        fc.record({
          storage: fc.nat(),
          offset: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 8 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 31 }) }),
          shape: fc.array(dim, { minLength: rank, maxLength: rank }),
          stride: fc.array(strideArb, { minLength: rank, maxLength: rank }),
          path: fc.array(fc.constantFrom("dict" as const, "list" as const), { maxLength: 3 }),
        }),
      ),
      { maxLength: 5 },
    ),
    container: fc.constantFrom("zip" as const, "deflated" as const, "legacy" as const),
    missing: fc.boolean(),
  })
  // A legacy file has no framing besides each storage's element count: a short storage there is a different file,
  // not a detectably damaged one, so only the zip container gets missing or extra bytes.
  .map((g) => (g.container === "legacy" ? { ...g, storages: g.storages.map((s) => ({ ...s, delta: 0 })) } : g));

function storageBytes(s: StorageGen): Uint8Array {
  const n = Math.max(0, s.numel * DTYPES[s.cls].size + s.delta);
  const out = new Uint8Array(n);
  let x = s.seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The file of a generated dict, and what a correct reader must return: the tensors' values, or an error. */
function build(g: DictGen): { bytes: Uint8Array; expected: Map<string, (number | bigint)[]> | "error" } {
  const datas = g.storages.map(storageBytes);
  const keyOf = (i: number): string => String(i);
  const specs = g.tensors.map((t, i): TensorSpec => {
    const s = g.storages[t.storage % g.storages.length]!;
    const missing = g.missing && i === 0;
    return { storageClass: s.cls, key: missing ? "missing" : keyOf(t.storage % g.storages.length), numel: s.numel, offset: t.offset, shape: t.shape, stride: t.stride };
  });
  // Entries of the root dict: tensor i at key "t<i>", inside its path of containers (a dict key "d", a list index 0).
  const entries: [string, number[]][] = specs.map((spec, i) => {
    let ops = tensorOps(spec);
    for (const kind of [...g.tensors[i]!.path].reverse()) {
      ops = kind === "dict" ? [...op.emptyDict, ...op.str("d"), ...ops, ...op.setitem] : [...op.emptyList, ...ops, ...op.append];
    }
    return [`t${i}`, ops];
  });
  const pickle = new Uint8Array([...op.proto(), ...op.emptyDict, ...entries.flatMap(([k, v]) => [...op.str(k), ...v, ...op.setitem]), ...op.stop]);
  const used = new Set(specs.map((s) => s.key));
  let bytes: Uint8Array;
  let inflated = 0;
  if (g.container === "legacy") {
    bytes = legacyFile(
      pickle,
      g.storages.map((s, i) => [keyOf(i), s.numel, datas[i]!]),
    );
  } else {
    bytes = torchZip(pickle, Object.fromEntries(datas.map((d, i) => [keyOf(i), d])), { deflate: g.container === "deflated" });
    if (g.container === "deflated") inflated = pickle.length + datas.reduce((a, d) => a + d.length, 0);
  }

  // The oracle: the same rules, written out independently.
  let error = false;
  if (g.container === "legacy" && g.storages.some((_, i) => !used.has(keyOf(i)))) error = true; // a storage no tensor uses
  let charged = inflated;
  const expected = new Map<string, (number | bigint)[]>();
  specs.forEach((spec, i) => {
    const t = g.tensors[i]!;
    // Keys: "t<i>", then one more level for each container on the path.
    let key = `t${i}`;
    charged += 2 * key.length;
    for (const kind of t.path) {
      key += kind === "dict" ? ".d" : ".0";
      charged += 2 * key.length;
    }
    if (spec.key === "missing") {
      error = true;
      return;
    }
    const s = g.storages[t.storage % g.storages.length]!;
    const data = datas[t.storage % g.storages.length]!;
    if (data.length < s.numel * DTYPES[s.cls].size) error = true;
    const n = t.shape.reduce((a, b) => a * b, 1);
    const nbytes = n * DTYPES[s.cls].out;
    if (nbytes > LIMITS.maxTensorBytes) error = true;
    charged += nbytes;
    if (n === 0) {
      expected.set(key, []);
      return;
    }
    const extent = 1 + t.shape.reduce((a, d, k) => a + (d - 1) * t.stride[k]!, 0);
    if (t.offset + extent > s.numel) {
      error = true;
      return;
    }
    if (error) return;
    const values: (number | bigint)[] = [];
    const index = new Array<number>(t.shape.length).fill(0);
    for (let e = 0; e < n; e++) {
      values.push(element(s.cls, data, t.offset + index.reduce((a, ix, k) => a + ix * t.stride[k]!, 0)));
      for (let d = t.shape.length - 1; d >= 0; d--) {
        if (++index[d]! < t.shape[d]!) break;
        index[d] = 0;
      }
    }
    expected.set(key, values);
  });
  if (charged > LIMITS.maxBytes) error = true;
  return { bytes, expected: error ? "error" : expected };
}

describe("readTorchStateDict fuzz", () => {
  it("generated state dicts (zip, deflated zip, legacy): exactly the values of an independent gather, or a named error", () => {
    let ok = 0;
    let failed = 0;
    fc.assert(
      fc.property(dictArb, (g) => {
        const { bytes, expected } = build(g);
        const sd = readChecked(bytes);
        if (expected === "error") {
          expect(sd, "the oracle expects an error").toBeUndefined();
          failed++;
          return;
        }
        expect(sd, "the oracle expects a result").toBeDefined();
        expect([...sd!.tensors.keys()]).toEqual([...expected.keys()]);
        for (const [key, values] of expected) {
          const got = [...(sd!.tensors.get(key)!.data as Iterable<number | bigint>)];
          expect(got.length, key).toBe(values.length);
          got.forEach((v, i) => expect(Object.is(v, values[i]) || (Number.isNaN(v) && Number.isNaN(values[i])), `${key}[${i}]: ${v} vs ${values[i]}`).toBe(true));
        }
        ok++;
      }),
      { seed: SEED, numRuns: 600 },
    );
    // Both outcomes are exercised.
    expect(ok).toBeGreaterThan(40);
    expect(failed).toBeGreaterThan(40);
  });

  // ---- Random edits of real files -----------------------------------------------------------------------------------

  const edit = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("copy" as const), from: fc.nat(), to: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  );
  type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;
  function applyEdits(original: Uint8Array, edits: Edit[]): Uint8Array {
    let b = original;
    for (const e of edits) {
      const at = b.length === 0 ? 0 : (e.kind === "copy" ? e.to : e.at) % b.length;
      if (e.kind === "set") {
        b = b.slice();
        if (b.length > 0) b[at] = e.value;
      } else if (e.kind === "insert") b = new Uint8Array([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
      else if (e.kind === "delete") b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + e.length)]);
      else if (e.kind === "truncate") b = b.slice(0, at);
      else {
        const from = b.length === 0 ? 0 : e.from % b.length;
        b = b.slice();
        b.set(b.slice(from, from + e.length).subarray(0, b.length - at), at);
      }
    }
    return b;
  }

  it.each(["small_zip.pth", "small_zip_p4.pth", "small_legacy.pth", "evil_hooks_zip.pth"])("random edits of %s: a result or a named error", (name) => {
    const original = fixture(name);
    let read = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
        if (readChecked(applyEdits(original, edits)) !== undefined) read++;
      }),
      { seed: SEED, numRuns: 250 },
    );
    // Some edits leave a readable file (in padding or unused entries), except in the file that holds hooks.
    if (name !== "evil_hooks_zip.pth") expect(read).toBeGreaterThan(0);
  });

  // ---- Random opcode streams -----------------------------------------------------------------------------------------

  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(op.mark, op.none, op.false, op.emptyDict, op.emptyList, op.emptyTuple, op.tuple, op.append, op.appends, op.setitem, op.setitems, op.reduce, op.binpersid, [0x85], [0x86], [0x87], [0x62], [0x88], [0x94], [0x6c], [0x64]) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 33 }).map(op.int) },
    { weight: 2, arbitrary: fc.constantFrom("storage", "cpu", "0", "1", "w", "_metadata", "version", "little_endian").map(op.str) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        op.global("torch._utils", "_rebuild_tensor_v2"),
        op.global("torch._utils", "_rebuild_parameter"),
        op.global("collections", "OrderedDict"),
        op.global("torch", "FloatStorage"),
        op.global("torch", "LongStorage"),
        op.global("torch", "HalfStorage"),
        op.global("os", "system"),
        op.global("builtins", "eval"),
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }).map((i) => [...op.binput(i)]) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }).map((i) => [...op.binget(i)]) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => [...b]) },
    { weight: 1, arbitrary: fc.constantFrom([0x8a, 9, ...new Array<number>(9).fill(0xff)], [0x4a, 0xff, 0xff, 0xff, 0xff], [0x47, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], [0x8c, 3, ...ascii("abc")], [0x43, 2, 1, 2], [0x95, 1, 0, 0, 0, 0, 0, 0, 0]) },
  );
  /** A dict pickle whose body is `tokens`, often set under a key of the root dict. */
  const streamArb = fc.record({
    tokens: fc.array(token, { maxLength: 60 }),
    wrap: fc.boolean(),
    container: fc.constantFrom("zip" as const, "legacy" as const),
  });

  it("random opcode streams in a zip or legacy file: a result or a named error", () => {
    let read = 0;
    fc.assert(
      fc.property(streamArb, ({ tokens, wrap, container }) => {
        const body = tokens.flat();
        const pickle = new Uint8Array(wrap ? [...op.proto(), ...op.emptyDict, ...op.str("k"), ...body, ...op.setitem, ...op.stop] : [...op.proto(), ...body, ...op.stop]);
        const storage = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
        const bytes = container === "zip" ? torchZip(pickle, { "0": storage, "1": storage }) : legacyFile(pickle, [["0", 4, storage]]);
        if (readChecked(bytes) !== undefined) read++;
      }),
      { seed: SEED, numRuns: 1500 },
    );
    expect(read).toBeGreaterThan(0);
  });

  // ---- Damaged zip containers ----------------------------------------------------------------------------------------

  it("zip entries with lying sizes, methods, CRCs and names: a result or a named error", () => {
    const pickle = new Uint8Array([...op.proto(), ...op.emptyDict, ...op.str("w"), ...tensorOps({ storageClass: "FloatStorage", key: "0", numel: 2, offset: 0, shape: [2], stride: [1] }), ...op.setitem, ...op.stop]);
    const contents: Record<string, Uint8Array> = {
      "archive/data.pkl": pickle,
      "archive/data/0": new Uint8Array(new Float32Array([5, 6]).buffer),
      "archive/byteorder": new Uint8Array(ascii("little")),
    };
    const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
    const file = (names: fc.Arbitrary<string>) =>
      fc.record({
        name: names,
        deflate: fc.boolean(),
        declaredSize: rarely(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(2 ** 32 - 1, 2 ** 31))),
        crc: rarely(fc.nat({ max: 2 ** 32 - 1 })),
      });
    // The two entries a state dict needs, each possibly lying, and up to three more (duplicates, a second data.pkl, ...).
    const filesArb = fc
      .tuple(
        file(fc.constant("archive/data.pkl")),
        file(fc.constant("archive/data/0")),
        fc.array(file(fc.constantFrom("archive/data.pkl", "archive/data/0", "archive/byteorder", "archive/version", "other/data.pkl", "archive/data/1")), { maxLength: 3 }),
      )
      .map(([pkl, data, more]) => [pkl, data, ...more]);
    let read = 0;
    fc.assert(
      fc.property(filesArb, fc.array(edit, { maxLength: 2 }), (files, edits) => {
        const zip = zipArchive(files.map((f) => ({ ...f, data: contents[f.name] ?? new Uint8Array(ascii("3\n")) })));
        const sd = readChecked(applyEdits(zip, edits));
        if (sd !== undefined) {
          read++;
          expect([...sd.tensors.get("w")!.data]).toEqual([5, 6]);
        }
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(read).toBeGreaterThan(0);
  });
});
