import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors } from "./safetensors";

/**
 * What Python's json and numpy.frombuffer read from the files below, written by tooling/fixtures/safetensors_numpy.py
 * (numpy 1.24); tooling/fixtures/check.sh regenerates it where numpy exists. The test needs no Python.
 */
interface NumpyReading {
  versions: Record<string, string>;
  files: Record<string, { sha256: string; metadata: Record<string, string> | null; tensors: Record<string, { dtype: string; shape: number[]; sum: number }> }>;
}
const numpyReading = (): NumpyReading => JSON.parse(readFileSync(new URL("./__fixtures__/safetensors-numpy.json", import.meta.url), "utf8")) as NumpyReading;

/** With DALE_FIXTURE_INPUTS=<dir> (tooling/fixtures/check.sh), writes the bytes handed to Python into <dir>. */
function writeFixtureInput(name: string, bytes: Uint8Array): void {
  const dir = process.env.DALE_FIXTURE_INPUTS;
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
}

function sample(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    return ((s >>> 8) / 2 ** 24 - 0.5) * 8;
  });
}

describe("safetensors", () => {
  const tensors = { a: { data: sample(24, 1), shape: [2, 3, 4] }, "b.w": { data: sample(5, 2), shape: [5] }, s: { data: Float32Array.of(3.5), shape: [] } };

  it("round-trips F32 exactly and F16 within 1e-3 relative", () => {
    const f32 = decodeSafetensors(encodeSafetensors(tensors, { metadata: { kind: "test" } }));
    expect(f32.metadata).toEqual({ kind: "test" });
    expect([...f32.tensors.keys()]).toEqual(["a", "b.w", "s"]);
    for (const [name, t] of Object.entries(tensors)) {
      const got = f32.tensors.get(name);
      expect(got?.shape).toEqual(t.shape);
      expect(Array.from(got?.data ?? [])).toEqual(Array.from(t.data));
    }
    const f16 = decodeSafetensors(encodeSafetensors(tensors, { dtype: "F16" }));
    for (const [name, t] of Object.entries(tensors)) {
      const got = f16.tensors.get(name)?.data ?? new Float32Array();
      expect(f16.tensors.get(name)?.dtype).toBe("F16");
      t.data.forEach((v, i) => expect(Math.abs((got[i] as number) - v)).toBeLessThanOrEqual(1e-3 * Math.abs(v) + 1e-7));
    }
  });

  it("pads the header to 8 bytes and rejects truncated or inconsistent files", () => {
    const bytes = encodeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1), "x.safetensors")).toThrow(/x.safetensors: truncated/);
    expect(() => decodeSafetensors(bytes.subarray(0, 20), "x.safetensors")).toThrow(/truncated/);
    expect(() => encodeSafetensors({ a: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/has shape \[2,2\] \(4 values\) but 3 values/);
  });

  // Cases the fuzz suite (safetensors.fuzz.test.ts) found.
  it("names tensors __proto__ or constructor like any other", () => {
    const file = decodeSafetensors(encodeSafetensors({ ["__proto__"]: { data: Float32Array.of(1, 2), shape: [2] }, constructor: { data: Float32Array.of(3), shape: [] } }));
    expect([...file.tensors.keys()]).toEqual(["__proto__", "constructor"]);
    expect(Array.from(file.tensors.get("__proto__")!.data)).toEqual([1, 2]);
    expect(() => encodeSafetensors([["toString", { data: Float32Array.of(1), shape: [1] }], ["toString", { data: Float32Array.of(1), shape: [1] }]])).toThrow(/duplicate tensor name "toString"/);
  });

  it("reads an empty tensor at the offset where the next one starts, whatever their order in the header", () => {
    // JSON puts the integer-like name "0" first: its [0, 4) comes before the empty [0, 0) of "w" in the header.
    const file = decodeSafetensors(encodeSafetensors([["w", { data: new Float32Array(0), shape: [0] }], ["0", { data: Float32Array.of(5), shape: [] }]]), "e.safetensors");
    expect(file.tensors.get("w")!.shape).toEqual([0]);
    expect(Array.from(file.tensors.get("0")!.data)).toEqual([5]);
  });

  it("names itself when given something other than bytes", () => {
    expect(() => decodeSafetensors(new ArrayBuffer(16) as unknown as Uint8Array)).toThrow("decodeSafetensors: bytes must be a Uint8Array, got ArrayBuffer.");
    expect(() => decodeSafetensors(null as unknown as Uint8Array)).toThrow("decodeSafetensors: bytes must be a Uint8Array, got null.");
  });

  it("is read by Python's json and numpy.frombuffer with the same shapes and sums (committed numpy reading)", () => {
    const files = (["F32", "F16"] as const).map((dtype) => ({ dtype, name: `io-${dtype}.safetensors`, bytes: encodeSafetensors(tensors, { dtype, metadata: { format: "dale" } }) }));
    for (const { name, bytes } of files) writeFixtureInput(name, bytes);
    const { files: readings } = numpyReading();
    for (const { dtype, name, bytes } of files) {
      const reading = readings[name];
      if (reading === undefined) throw new Error(`__fixtures__/safetensors-numpy.json has no ${name}; regenerate it with tooling/fixtures/check.sh --write.`);
      // numpy read exactly these bytes: anything else (another writer, other tensors) needs a new reading.
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      expect(sha256, `${name} is no longer the file numpy read; regenerate the fixture with tooling/fixtures/check.sh --write`).toBe(reading.sha256);
      expect(reading.metadata).toEqual({ format: "dale" });
      const file = decodeSafetensors(bytes);
      expect(Object.keys(reading.tensors).sort()).toEqual([...file.tensors.keys()].sort());
      for (const [tensorName, t] of file.tensors) {
        const { dtype: readDtype, shape, sum } = reading.tensors[tensorName] ?? { dtype: "", shape: [], sum: NaN };
        expect(readDtype).toBe(dtype);
        expect(shape).toEqual(t.shape);
        expect(sum).toBeCloseTo(t.data.reduce((a, b) => a + b, 0), 9);
      }
    }
  });
});
