import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { UnsafePickleError, loadTorchStateDict, readTorchStateDict, torchTensorToFloat32, type TorchStateDict } from "./index";
import { unpickle } from "./pickle";

// Fixtures: tooling/inception-reference/make_pth_fixtures.py (torch 1.13).
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url))));
const expected = JSON.parse(readFileSync(fileURLToPath(new URL("./__fixtures__/expected.json", import.meta.url)), "utf8")) as {
  tensors: Record<string, { dtype: string; shape: number[]; values: (number | string | boolean)[] }>;
  metadata: Record<string, Record<string, number>>;
};

function expectMatchesTorch(sd: TorchStateDict): void {
  expect([...sd.tensors.keys()]).toEqual(Object.keys(expected.tensors));
  for (const [key, want] of Object.entries(expected.tensors)) {
    const got = sd.tensors.get(key)!;
    expect(got.dtype, key).toBe(want.dtype);
    expect(got.shape, key).toEqual(want.shape);
    const values = [...(got.data as ArrayLike<number | bigint> & Iterable<number | bigint>)];
    const wantValues = want.values.map((v) =>
      want.dtype === "int64" ? BigInt(v as string) : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === true ? 1 : v === false ? 0 : v,
    );
    expect(values, key).toEqual(wantValues);
  }
  expect(Object.fromEntries(sd.metadata)).toEqual(expected.metadata);
  expect(sd.values.size).toBe(0);
}

describe("readTorchStateDict", () => {
  it.each([
    ["small_zip.pth", "zip"],
    ["small_zip_p4.pth", "zip"],
    ["small_legacy.pth", "legacy"],
  ])("reads %s exactly as torch.load does (dtypes, offsets, strides, shared storages, _metadata)", (name, format) => {
    const sd = readTorchStateDict(fixture(name), { source: name });
    expect(sd.format).toBe(format);
    expectMatchesTorch(sd);
  });

  it("keeps -0 in float16 and widens bfloat16 exactly", () => {
    const sd = readTorchStateDict(fixture("small_zip.pth"));
    expect(Object.is(sd.tensors.get("half")!.data[4], -0)).toBe(true);
    expect(sd.tensors.get("bfloat16")!.data[3]).toBe(2 ** -130);
    expect(sd.tensors.get("bn.num_batches_tracked")!.data[0]).toBe(2n ** 40n + 3n);
  });

  it("loadTorchStateDict reads a path and torchTensorToFloat32 converts any dtype", () => {
    const sd = loadTorchStateDict(fileURLToPath(new URL("./__fixtures__/small_legacy.pth", import.meta.url)));
    expect([...torchTensorToFloat32(sd.tensors.get("int64")!)]).toEqual([-(2 ** 62), -1, 0, 2 ** 53]);
    expect([...torchTensorToFloat32(sd.tensors.get("view.expanded")!)]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(() => loadTorchStateDict("/nonexistent/pt_inception.pth")).toThrow(/ENOENT.*pt_inception/);
  });

  it("flattens nested containers and keeps plain values", () => {
    // {"model": OrderedDict(w=<tensor of the small file>), "epoch": 3, "names": ["a", None]} built from the zip fixture.
    const files = unzipSync(fixture("small_zip.pth"));
    const pkl = new Uint8Array([
      ...[0x80, 0x02, 0x7d, 0x28], // PROTO 2, EMPTY_DICT, MARK
      ...str("model"),
      ...[0x63, ...ascii("collections\nOrderedDict\n"), 0x29, 0x52, 0x28], // GLOBAL, EMPTY_TUPLE, REDUCE, MARK
      ...str("w"),
      ...[0x63, ...ascii("torch._utils\n_rebuild_tensor_v2\n"), 0x28, 0x28], // GLOBAL, MARK, MARK
      ...str("storage"),
      ...[0x63, ...ascii("torch\nFloatStorage\n")],
      ...str("1"),
      ...str("cpu"),
      ...[0x4b, 2, 0x74, 0x51], // BININT1 2, TUPLE, BINPERSID
      ...[0x4b, 0, 0x4b, 2, 0x85, 0x4b, 1, 0x85, 0x89, 0x4e, 0x74, 0x52], // 0, (2,), (1,), False, None, TUPLE, REDUCE
      ...[0x75], // SETITEMS (the OrderedDict)
      ...str("epoch"),
      ...[0x4b, 3],
      ...str("names"),
      ...[0x5d, 0x28, ...str("a"), 0x4e, 0x65], // EMPTY_LIST, MARK, "a", None, APPENDS
      ...[0x75, 0x2e], // SETITEMS, STOP
    ]);
    const sd = readTorchStateDict(rezip(files, { "archive/data.pkl": pkl }));
    expect([...sd.tensors.keys()]).toEqual(["model.w"]);
    expect(sd.tensors.get("model.w")!.shape).toEqual([2]);
    expect([...sd.values]).toEqual([
      ["epoch", 3],
      ["names.0", "a"],
      ["names.1", null],
    ]);
  });
});

describe("readTorchStateDict refuses code", () => {
  it.each([
    ["evil_eval.pkl", /global (__builtin__|builtins)\.eval/],
    ["evil_system_zip.pth", /global posix\.system/],
    ["evil_system_zip_p4.pth", /global posix\.system/],
    ["evil_eval_legacy.pth", /global (__builtin__|builtins)\.eval/],
    ["evil_inst.pkl", /opcode INST/],
    ["evil_hooks_zip.pth", /global posix\.system/],
  ])("%s: UnsafePickleError", (name, message) => {
    const bytes = fixture(name);
    // A bare pickle is not a legacy file; check the interpreter itself on it, and the full reader on the .pth files.
    const run = name.endsWith(".pkl") ? () => unpickle(bytes, 0, name) : () => readTorchStateDict(bytes, { source: name });
    expect(run).toThrow(UnsafePickleError);
    expect(run).toThrow(message);
  });

  const wrap = (body: number[]): Uint8Array => new Uint8Array([0x80, 0x02, ...body, 0x2e]);
  it.each([
    ["a storage class called through REDUCE", [0x63, ...ascii("torch\nFloatStorage\n"), 0x29, 0x52], /REDUCE|call to torch\.FloatStorage/],
    ["NEWOBJ", [0x63, ...ascii("collections\nOrderedDict\n"), 0x29, 0x81], /NEWOBJ/],
    ["a persistent id that is not a storage", [...str("module"), 0x85, 0x51], /persistent id of kind "module"/],
    ["a persistent id that is a string", [...str("storage"), 0x51], /persistent id that is a str/],
    ["BUILD on a list", [0x5d, 0x7d, 0x62], /BUILD on a list/],
    ["REDUCE on a string", [...str("os.system"), 0x29, 0x52], /REDUCE on a str/],
    ["STACK_GLOBAL of builtins.exec", [...str("builtins"), ...str("exec"), 0x93], /global builtins\.exec/],
    ["GLOBAL of torch.load", [0x63, ...ascii("torch\nload\n")], /global torch\.load/],
    ["GLOBAL of a Tensor subclass rebuild", [0x63, ...ascii("torch._tensor\n_rebuild_from_type_v2\n")], /global torch\._tensor\._rebuild_from_type_v2/],
  ])("%s", (_name, body, message) => {
    const run = (): unknown => unpickle(wrap(body), 0, "test");
    expect(run).toThrow(UnsafePickleError);
    expect(run).toThrow(message);
  });
});

describe("readTorchStateDict on damaged files", () => {
  const isReaderError = (run: () => unknown): string | undefined => {
    try {
      run();
      return undefined;
    } catch (error) {
      // Every failure must be a deliberate, explained Error, never a RangeError or TypeError from deep inside.
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).constructor === Error || error instanceof UnsafePickleError).toBe(true);
      expect((error as Error).message).toMatch(/^readTorchStateDict: /);
      return (error as Error).message;
    }
  };

  it("every truncation of a legacy file gives a clear error", () => {
    const bytes = fixture("small_legacy.pth");
    for (let n = 0; n < bytes.length; n++) {
      const message = isReaderError(() => readTorchStateDict(bytes.subarray(0, n), { source: "cut.pth" }));
      expect(message, `cut at ${n}`).toBeDefined();
    }
    expect(isReaderError(() => readTorchStateDict(bytes.subarray(0, bytes.length - 5), { source: "cut.pth" }))).toMatch(
      /truncated: storage \d+ (needs bytes|should start at byte)/,
    );
  });

  it("truncated zip files give a clear error", () => {
    const bytes = fixture("small_zip.pth");
    for (let n = 4; n < bytes.length; n += 97) {
      expect(isReaderError(() => readTorchStateDict(bytes.subarray(0, n), { source: "cut.pth" })), `cut at ${n}`).toMatch(/not a readable zip archive/);
    }
  });

  it("single corrupted bytes never crash the reader", () => {
    const bytes = fixture("small_legacy.pth");
    for (let at = 0; at < bytes.length; at++) {
      for (const value of [0x00, 0xff, bytes[at]! ^ 0x01]) {
        const copy = bytes.slice();
        copy[at] = value;
        isReaderError(() => readTorchStateDict(copy, { source: "bad.pth" }));
      }
    }
  });

  it("a storage shorter than declared, a missing storage, and a view past its storage are errors", () => {
    const files = unzipSync(fixture("small_zip.pth"));
    expect(() => readTorchStateDict(rezip(files, { "archive/data/0": files["archive/data/0"]!.subarray(0, 10) }), { source: "short.pth" })).toThrow(
      /short\.pth \(archive\/data\/0\) holds 10 bytes but is declared as 24 float32 elements \(96 bytes\)/,
    );
    const missing = { ...files };
    delete missing["archive/data/0"];
    expect(() => readTorchStateDict(zipSync(missing, { level: 0 }), { source: "missing.pth" })).toThrow(/has no entry archive\/data\/0/);
    // A tensor of shape (5,) at offset 0 over a 2-element storage.
    const pkl = new Uint8Array([
      ...[0x80, 0x02, 0x7d, ...str("w")],
      ...[0x63, ...ascii("torch._utils\n_rebuild_tensor_v2\n"), 0x28, 0x28, ...str("storage"), 0x63, ...ascii("torch\nFloatStorage\n")],
      ...[...str("1"), ...str("cpu"), 0x4b, 2, 0x74, 0x51, 0x4b, 0, 0x4b, 5, 0x85, 0x4b, 1, 0x85, 0x89, 0x4e, 0x74, 0x52, 0x73, 0x2e],
    ]);
    expect(() => readTorchStateDict(rezip(files, { "archive/data.pkl": pkl }), { source: "view.pth" })).toThrow(
      /tensor "w" \(shape \[5\], stride \[1\], offset 0\) reaches element 4 of a storage of 2 elements/,
    );
  });

  it("names what it found when the file is not a state dict at all", () => {
    expect(() => readTorchStateDict(new TextEncoder().encode("hello world"), { source: "x.pth" })).toThrow(/x\.pth is not a PyTorch file: it is neither a zip/);
    expect(() => readTorchStateDict(new Uint8Array(0), { source: "x.pth" })).toThrow(/\(empty\)/);
    expect(() => readTorchStateDict(zipSync({ "a/b.txt": new Uint8Array(3) }), { source: "x.zip" })).toThrow(/x\.zip is a zip archive with no data\.pkl/);
    // A legacy-looking pickle that is not the magic number.
    expect(() => readTorchStateDict(new Uint8Array([0x80, 0x02, 0x4b, 0x07, 0x2e]), { source: "p.pkl" })).toThrow(/not PyTorch's magic number/);
    // A zip whose data.pkl holds a list.
    const files = unzipSync(fixture("small_zip.pth"));
    expect(() => readTorchStateDict(rezip(files, { "archive/data.pkl": new Uint8Array([0x80, 0x02, 0x5d, 0x2e]) }), { source: "l.pth" })).toThrow(
      /l\.pth holds a list, not a dict of tensors/,
    );
    expect(() => readTorchStateDict("nope" as unknown as Uint8Array)).toThrow(/bytes must be a Uint8Array/);
  });
});

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** BINUNICODE of an ASCII string. */
function str(s: string): number[] {
  return [0x58, s.length & 0xff, (s.length >> 8) & 0xff, 0, 0, ...ascii(s)];
}

function rezip(files: Record<string, Uint8Array>, replace: Record<string, Uint8Array>): Uint8Array {
  return zipSync({ ...files, ...replace }, { level: 0 });
}
