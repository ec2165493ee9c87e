import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, float16ToFloat32, float32ToFloat16 } from "./safetensors";

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

describe("float16", () => {
  it("rounds float32 to binary16 correctly", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65519, 0x7bff], // below the halfway point to 65536
      [65520, 0x7c00], // halfway: ties to even rounds up to Infinity
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [1e-8, 0x0000],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway to it: ties to even gives 0
      [1.5 * 2 ** -25, 0x0001],
      [2 ** -14, 0x0400], // smallest normal
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [1 + 2 ** -11, 0x3c00], // tie, even mantissa stays
      [1 + 3 * 2 ** -11, 0x3c02], // tie, odd mantissa rounds up
    ];
    for (const [value, bits] of cases) expect([value, float32ToFloat16(value)]).toEqual([value, bits]);
    const nan = float32ToFloat16(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
    expect(float16ToFloat32(nan)).toBeNaN();
  });

  it("decodes binary16 exactly and round-trips every finite half", () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    const bad: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) continue; // NaNs
      if (float32ToFloat16(float16ToFloat32(bits)) !== bits) bad.push(bits);
    }
    expect(bad).toEqual([]);
  });
});

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
