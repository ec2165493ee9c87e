import { describe, expect, it } from "vitest";
import { decodeNpy, encodeNpy } from "./npy";

// Written by numpy 1.24: np.save(f, (np.arange(6, dtype='<f4') / 5).reshape(2, 3, 1)) and np.save(f, np.arange(3, dtype='<f4')).
const NUMPY_3D = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAzcxMPs3MzD6amRk/zcxMPwAAgD8=";
const NUMPY_1D = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEA=";

describe("npy", () => {
  it("reads what numpy writes", () => {
    const a = decodeNpy(Buffer.from(NUMPY_3D, "base64"));
    expect(a.shape).toEqual([2, 3, 1]);
    expect(Array.from(a.data)).toEqual(Array.from(Float32Array.from([0, 1, 2, 3, 4, 5], (v) => v / 5)));
    const b = decodeNpy(Buffer.from(NUMPY_1D, "base64"));
    expect(b.shape).toEqual([3]);
    expect(Array.from(b.data)).toEqual([0, 1, 2]);
  });

  it("round-trips and pads its header to 64 bytes", () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 23);
    const bytes = encodeNpy(data, [2, 3, 4, 1]);
    expect((bytes.length - 24 * 4) % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3, 4, 1]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(decodeNpy(encodeNpy(Float32Array.from([7]), [1])).shape).toEqual([1]);
  });

  it("rejects a shape that does not match the data, and truncated or foreign files", () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/shape \[2, 3\] holds 6 values, data has 5/);
    const bytes = Buffer.from(NUMPY_3D, "base64");
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 4))).toThrow(/expected 24 data bytes, got 20/);
    expect(() => decodeNpy(Buffer.from("not a numpy file at all"))).toThrow(/bad magic/);
    const f8 = Buffer.from(bytes);
    f8.write("'<f8'", f8.indexOf("'<f4'"), "latin1");
    expect(() => decodeNpy(f8)).toThrow(/only little-endian float32/);
  });
});
