// Regression tests for the limits of the .pth reader (issue 15): files of a few hundred bytes that made it allocate
// gigabytes, a zip bomb, pickles nested thousands of levels deep. Each must end in an error that starts with
// "readTorchStateDict: <file>" and names the option and the expected value, in little time and memory.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TORCH_READ_DEFAULTS, loadTorchStateDict, readTorchStateDict } from "./index";
import { unpickle } from "./pickle";
import {
  deflatedZeros,
  dictPickle,
  legacyFile,
  measure,
  op,
  stateDictPickle,
  tensorOps,
  torchZip,
  zipArchive,
  type TensorSpec,
} from "./__fixtures__/torch-files";

const MiB = 2 ** 20;
const f32 = (...values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

/** Runs `read`, expects an Error whose message starts with "readTorchStateDict: " and matches `message`, cheaply. */
function expectLimitError(read: () => unknown, message: RegExp, budget = { ms: 2000, bytes: 32 * MiB }): string {
  const m = measure(read);
  expect(m.error, "the read should fail").toBeInstanceOf(Error);
  const text = (m.error as Error).message;
  expect((m.error as Error).constructor).toBe(Error); // not a RangeError or TypeError from the engine
  expect(text).toMatch(/^readTorchStateDict: /);
  expect(text).toMatch(message);
  expect(m.ms, text).toBeLessThan(budget.ms);
  expect(m.arrayBytes, text).toBeLessThan(budget.bytes);
  return text;
}

describe("tensor byte budgets (a view counts what it materialises)", () => {
  const expanded = (storageClass: string, side: number): Uint8Array => {
    const t: TensorSpec = { storageClass, key: "0", numel: 1, offset: 0, shape: [side, side], stride: [0, 0] };
    return torchZip(stateDictPickle([["w", t]]), { "0": storageClass === "DoubleStorage" ? new Uint8Array(8) : f32(1) });
  };

  it("a 492-byte file holding a stride-0 float32 tensor of 1 GiB (the issue's was 519 bytes): maxTensorBytes, nothing allocated", () => {
    const bytes = expanded("FloatStorage", 2 ** 14); // 2^28 elements of one stored float
    expect(bytes.length).toBe(492);
    expectLimitError(
      () => readTorchStateDict(bytes, { source: "bomb.pth" }),
      /^readTorchStateDict: bomb\.pth: tensor "w" \(float32, shape \[16384, 16384\], stride \[0, 0\]\) would take 1073741824 bytes, more than options\.maxTensorBytes = 268435456/,
    );
  });

  it("its float64 version (8 GiB) is the same named error, not 'RangeError: Array buffer allocation failed'", () => {
    expectLimitError(() => readTorchStateDict(expanded("DoubleStorage", 2 ** 15), { source: "bomb64.pth" }), /bomb64\.pth: tensor "w" \(float64, .* would take 8589934592 bytes, more than options\.maxTensorBytes/);
  });

  it("the budget for the whole file adds up tensors (shared storages count once per tensor)", () => {
    const t = (shape: number[], stride: number[]): TensorSpec => ({ storageClass: "FloatStorage", key: "0", numel: 4, offset: 0, shape, stride });
    const bytes = torchZip(stateDictPickle([["a", t([100], [0])], ["b", t([100], [0])], ["c", t([4], [1])]]), { "0": f32(1, 2, 3, 4) });
    // 400 + 400 + 16 bytes of tensors and 2 bytes for each key: 822 bytes in all.
    const sd = readTorchStateDict(bytes, { maxBytes: 822 });
    expect([...sd.tensors.get("c")!.data]).toEqual([1, 2, 3, 4]);
    expect(sd.tensors.get("b")!.data.length).toBe(100);
    expectLimitError(() => readTorchStateDict(bytes, { source: "x.pth", maxBytes: 700 }), /x\.pth: tensor "b" .* would bring the bytes this reader builds to 806, more than options\.maxBytes = 700/);
    expectLimitError(() => readTorchStateDict(bytes, { maxBytes: 821 }), /tensor "c" .* builds to 822, more than options\.maxBytes = 821/);
    // Raised limits read the expanded view.
    expect(readTorchStateDict(expanded("FloatStorage", 64), { maxTensorBytes: 64 * 64 * 4 }).tensors.get("w")!.data.every((v) => v === 1)).toBe(true);
    expectLimitError(() => readTorchStateDict(expanded("FloatStorage", 64), { maxTensorBytes: 64 * 64 * 4 - 1 }), /maxTensorBytes = 16383/);
  });

  it("float16 counts 4 bytes an element (it is returned as float32)", () => {
    const t: TensorSpec = { storageClass: "HalfStorage", key: "0", numel: 2, offset: 0, shape: [2], stride: [1] };
    const bytes = torchZip(stateDictPickle([["h", t]]), { "0": new Uint8Array([0, 0x3c, 0, 0xc0]) });
    expect([...readTorchStateDict(bytes, { maxTensorBytes: 8 }).tensors.get("h")!.data]).toEqual([1, -2]);
    expectLimitError(() => readTorchStateDict(bytes, { maxTensorBytes: 7 }), /would take 8 bytes, more than options\.maxTensorBytes = 7/);
  });

  it("the work of a gather is proportional to the tensor, not to its storage or its dimensions of size 1", () => {
    // 2000 two-element tensors that each span a 4 MB storage (the old reader copied the span for each), and one
    // tensor listing 30000 dimensions of size 1.
    const numel = 2 ** 20;
    const storage = new Float32Array(numel).map((_, i) => i);
    const sparse: [string, TensorSpec][] = Array.from({ length: 2000 }, (_, i) => [
      `t${i}`,
      { storageClass: "FloatStorage", key: "0", numel, offset: i, shape: [2], stride: [numel - 2000] },
    ]);
    const ones: TensorSpec = { storageClass: "FloatStorage", key: "0", numel, offset: 5, shape: [...new Array<number>(30000).fill(1), 3], stride: [...new Array<number>(30000).fill(7), 2] };
    const bytes = torchZip(stateDictPickle([...sparse, ["ones", ones]]), { "0": new Uint8Array(storage.buffer) });
    const m = measure(() => readTorchStateDict(bytes));
    expect(m.error).toBeUndefined();
    expect(m.ms).toBeLessThan(2000);
    expect([...m.result!.tensors.get("t7")!.data]).toEqual([7, 7 + numel - 2000]);
    expect([...m.result!.tensors.get("ones")!.data]).toEqual([5, 7, 9]);
    expect(m.result!.tensors.get("ones")!.shape.length).toBe(30001);
  });
});

describe("zip bombs: the inflation budget is checked before inflating, and each inflation is capped", () => {
  const chunks = 1024; // 1 GiB of zeros in about 1 MB
  const bomb = deflatedZeros(chunks);

  it("a 1 MB zip whose data.pkl inflates to 1 GiB is refused from its central directory, before inflating", () => {
    expect(bomb.length).toBeLessThan(1.1 * MiB);
    const bytes = zipArchive([{ name: "archive/data.pkl", data: bomb, deflated: { size: chunks * MiB } }]);
    expectLimitError(
      () => readTorchStateDict(bytes, { source: "bomb.zip" }),
      /^readTorchStateDict: bomb\.zip: inflating 1 compressed entry \(as the zip's central directory declares them\) would bring the bytes this reader builds to 1073741824, more than options\.maxBytes = 536870912/,
      { ms: 500, bytes: 8 * MiB },
    );
  });

  it("the same bomb declaring 1000 bytes stops at the 1000th byte", () => {
    const bytes = zipArchive([{ name: "archive/data.pkl", data: bomb, deflated: { size: 1000 } }]);
    expectLimitError(
      () => readTorchStateDict(bytes, { source: "liar.zip" }),
      /^readTorchStateDict: liar\.zip \(archive\/data\.pkl\) inflates to more than the 1000 bytes its central directory entry declares; the archive is corrupt or a zip bomb/,
      { ms: 500, bytes: 8 * MiB },
    );
  });

  it("storages count too, all together before any is inflated", () => {
    const t: TensorSpec = { storageClass: "FloatStorage", key: "0", numel: 2 ** 26, offset: 0, shape: [1], stride: [1] };
    const bytes = zipArchive([
      { name: "archive/data.pkl", data: stateDictPickle([["w", t]]) },
      { name: "archive/data/0", data: deflatedZeros(256), deflated: { size: 256 * MiB } },
      { name: "archive/data/1", data: deflatedZeros(256), deflated: { size: 256 * MiB } },
      { name: "archive/data/2", data: deflatedZeros(256), deflated: { size: 256 * MiB } },
    ]);
    expectLimitError(() => readTorchStateDict(bytes, { source: "three.zip" }), /inflating 3 compressed entries .* more than options\.maxBytes/, { ms: 500, bytes: 8 * MiB });
  });

  it("a deflated torch zip within the budget reads exactly; a corrupted one fails its CRC", () => {
    const t: TensorSpec = { storageClass: "FloatStorage", key: "0", numel: 6, offset: 1, shape: [2, 2], stride: [1, 2] };
    const bytes = torchZip(stateDictPickle([["w", t]]), { "0": f32(0, 1, 2, 3, 4, 5) }, { deflate: true });
    expect([...readTorchStateDict(bytes).tensors.get("w")!.data]).toEqual([1, 3, 2, 4]);
    const stored = torchZip(stateDictPickle([["w", t]]), { "0": f32(0, 1, 2, 3, 4, 5) });
    const at = Buffer.from(stored).indexOf(Buffer.from(f32(0, 1, 2, 3, 4, 5))) + 6; // inside archive/data/0
    const bad = stored.slice();
    bad[at]! ^= 0x40;
    expect(() => readTorchStateDict(bad, { source: "flip.pth" })).toThrow(/^readTorchStateDict: flip\.pth \(archive\/data\/0\) fails its CRC-32 check/);
  });
});

describe("nesting depth", () => {
  const nested = (levels: number, leaf: number[] = []): number[] => [
    ...new Array<number[]>(levels).fill(op.emptyList).flat(),
    ...leaf,
    ...(leaf.length > 0 ? op.append : []),
    ...new Array<number[]>(levels - 1).fill(op.append).flat(),
  ];

  it("2,000 nested lists: a named error at the byte where the limit is passed, not 'Maximum call stack size exceeded'", () => {
    const bytes = torchZip(dictPickle([["x", nested(2000)]]), {});
    const text = expectLimitError(() => readTorchStateDict(bytes, { source: "deep.pth" }), /^readTorchStateDict: deep\.pth \(archive\/data\.pkl\): containers nested more than 64 deep at byte \d+ \(options\.maxDepth = 64/);
    expect(text).not.toMatch(/call stack/);
    // The interpreter alone, and each pickle of a legacy file (the magic number too).
    expect(() => unpickle(dictPickle([["x", nested(100_000)]]), 0, "p")).toThrow(/^p: containers nested more than 64 deep/);
    const legacy = new Uint8Array([...op.proto(), ...nested(100_000), ...op.stop]);
    expectLimitError(() => readTorchStateDict(legacy, { source: "deep_legacy.pth" }), /deep_legacy\.pth \(magic number\): containers nested more than 64 deep/);
  });

  it("depth reached by changing a container after it was nested (through the memo) is caught by the walk", () => {
    // D = {"x": L0}; then L0.append(L1), L1.append(L2), ... with each list fetched from the memo: every list was
    // at most 2 deep when it was changed, but L0 ends up 100 deep. The lists left on the stack go into D["y"].
    const ops: number[] = [...op.proto(), ...op.emptyDict, ...op.str("x"), ...op.emptyList, ...op.binput(0), ...op.setitem, ...op.str("y"), ...op.mark];
    for (let i = 1; i < 100; i++) ops.push(...op.binget(i - 1), ...op.emptyList, ...op.binput(i), ...op.append);
    ops.push(...op.tuple, ...op.setitem, ...op.stop);
    const pickle = new Uint8Array(ops);
    expect(unpickle(pickle, 0, "p").value).toBeDefined(); // accepted by the interpreter: never more than 4 deep as built
    expectLimitError(
      () => readTorchStateDict(torchZip(pickle, {}), { source: "memo.pth" }),
      /^readTorchStateDict: memo\.pth: the container at "x\.0\.0[.0]*" is nested 65 deep, more than options\.maxDepth = 64/,
    );
  });

  it("a deep file allowed by maxDepth is read without recursion", () => {
    const bytes = torchZip(dictPickle([["x", nested(5000, op.int(7))]]), {});
    const sd = readTorchStateDict(bytes, { maxDepth: 5001 });
    expect([...sd.values]).toEqual([[`x${".0".repeat(5000)}`, 7]]);
  });
});

describe("keys and options", () => {
  it("flattened keys are charged to maxBytes (a long key reused under many entries cannot grow quadratically)", () => {
    const long = "k".repeat(100_000);
    const entries = Array.from({ length: 50 }, (_, i) => op.str(String(i)).concat(op.int(i), op.setitem)).flat();
    const bytes = torchZip(dictPickle([[long, [...op.emptyDict, ...entries]]]), {});
    expect(readTorchStateDict(bytes).values.size).toBe(50);
    expectLimitError(() => readTorchStateDict(bytes, { source: "keys.pth", maxBytes: 2 * 1_000_000 }), /keys\.pth: the key "k{100}\.\.\." \(100002 characters\) would bring .* more than options\.maxBytes = 2000000/);
  });

  it("names the option and the expected value for bad options", () => {
    const bytes = torchZip(stateDictPickle([]), {});
    expect(() => readTorchStateDict(bytes, { maxBytes: -1 })).toThrow(/^readTorchStateDict: options\.maxBytes must be a non-negative integer number of bytes \(or Infinity\), got -1\./);
    expect(() => readTorchStateDict(bytes, { maxTensorBytes: 1.5 })).toThrow(/options\.maxTensorBytes must be/);
    expect(() => readTorchStateDict(bytes, { maxDepth: 0 })).toThrow(/^readTorchStateDict: options\.maxDepth must be a positive integer, got 0\./);
    expect(() => readTorchStateDict(bytes, { source: 3 as unknown as string })).toThrow(/options\.source must be a string/);
    expect(TORCH_READ_DEFAULTS).toEqual({ maxBytes: 512 * MiB, maxTensorBytes: 256 * MiB, maxDepth: 64 });
  });

  it("a legacy file obeys the same budgets", () => {
    const t: TensorSpec = { storageClass: "FloatStorage", key: "k", numel: 1, offset: 0, shape: [2 ** 14, 2 ** 14], stride: [0, 0] };
    const bytes = legacyFile(dictPickle([["w", tensorOps(t)]]), [["k", 1, f32(1)]]);
    expectLimitError(() => readTorchStateDict(bytes, { source: "old.pth" }), /old\.pth: tensor "w" .* more than options\.maxTensorBytes = 268435456/);
    const small: TensorSpec = { ...t, shape: [2, 3] };
    expect([...readTorchStateDict(legacyFile(dictPickle([["w", tensorOps(small)]]), [["k", 1, f32(4)]])).tensors.get("w")!.data]).toEqual([4, 4, 4, 4, 4, 4]);
  });
});

describe("loadTorchStateDict names the path", () => {
  const dir = mkdtempSync(join(tmpdir(), "dale-pth-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("for a directory, an empty file and a missing file", () => {
    expect(() => loadTorchStateDict(dir)).toThrow(new RegExp(`^loadTorchStateDict: ${dir} is a directory; expected a \\.pth file`));
    const empty = join(dir, "empty.pth");
    writeFileSync(empty, new Uint8Array(0));
    expect(() => loadTorchStateDict(empty)).toThrow(new RegExp(`^readTorchStateDict: ${empty} is not a PyTorch file: .*\\(empty\\)`));
    expect(() => loadTorchStateDict(join(dir, "none.pth"))).toThrow(/^loadTorchStateDict: cannot read .*none\.pth \(ENOENT/);
    expect(() => loadTorchStateDict(empty, { maxDepth: -2 })).toThrow(/^loadTorchStateDict: options\.maxDepth must be a positive integer/);
  });

  it("passes the limits on", () => {
    const t: TensorSpec = { storageClass: "FloatStorage", key: "0", numel: 1, offset: 0, shape: [8], stride: [0] };
    const file = join(dir, "small.pth");
    writeFileSync(file, torchZip(stateDictPickle([["w", t]]), { "0": f32(2) }));
    expect(loadTorchStateDict(file).tensors.get("w")!.data.length).toBe(8);
    expect(() => loadTorchStateDict(file, { maxTensorBytes: 31 })).toThrow(new RegExp(`^readTorchStateDict: ${file}: tensor "w" .*maxTensorBytes = 31`));
  });
});
