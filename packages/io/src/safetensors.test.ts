import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors } from "./safetensors";

const PYTHON = "/usr/bin/python3";
const hasNumpy = (() => {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

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

  it.skipIf(!hasNumpy)("is read by Python's json and numpy.frombuffer", () => {
    // (Skipped when /usr/bin/python3 or numpy is missing.)
    const dir = mkdtempSync(join(tmpdir(), "dale-safetensors-"));
    const script = [
      "import json, struct, sys, numpy as np",
      "out = {}",
      "for path in sys.argv[1:]:",
      "    b = open(path, 'rb').read()",
      "    (n,) = struct.unpack('<Q', b[:8])",
      "    h = json.loads(b[8:8 + n])",
      "    h.pop('__metadata__', None)",
      "    data = b[8 + n:]",
      "    for k, v in h.items():",
      "        s, e = v['data_offsets']",
      "        a = np.frombuffer(data[s:e], dtype={'F32': '<f4', 'F16': '<f2'}[v['dtype']]).reshape(v['shape'])",
      "        out[path.rsplit('/', 1)[-1] + ':' + k] = [float(a.astype(np.float64).sum()), list(a.shape)]",
      "print(json.dumps(out))",
    ].join("\n");
    const paths = (["F32", "F16"] as const).map((dtype) => {
      const path = join(dir, `${dtype}.safetensors`);
      writeFileSync(path, encodeSafetensors(tensors, { dtype, metadata: { format: "dale" } }));
      return path;
    });
    const result = JSON.parse(execFileSync(PYTHON, ["-c", script, ...paths], { encoding: "utf8" })) as Record<string, [number, number[]]>;
    for (const dtype of ["F32", "F16"] as const) {
      const file = decodeSafetensors(encodeSafetensors(tensors, { dtype }));
      for (const [name, t] of file.tensors) {
        const [sum, shape] = result[`${dtype}.safetensors:${name}`] ?? [NaN, []];
        expect(shape).toEqual(t.shape);
        expect(sum).toBeCloseTo(t.data.reduce((a, b) => a + b, 0), 9);
      }
    }
  });
});
