import { describe, expect, it } from "vitest";
import { decodeNpy, decodeNpyArray, encodeNpy } from "./npy";

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

  // Written by numpy 1.24 (np.lib.format.write_array with the version given): x = (np.arange(6, dtype='<f8') / 3).reshape(2, 3).
  const F8 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAFVVVVVVVdU/VVVVVVVV5T8AAAAAAADwP1VVVVVVVfU/q6qqqqqq+j8=";
  const F8_V2 = "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAFVVVVVVVdU/VVVVVVVV5T8AAAAAAADwP1VVVVVVVfU/q6qqqqqq+j8=";
  const F4_V3 = "k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBA";
  const FORTRAN = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAPA/VVVVVVVV1T9VVVVVVVX1P1VVVVVVVeU/q6qqqqqq+j8=";
  const BIG_ENDIAN = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAD/VVVVVVVVVP+VVVVVVVVU/8AAAAAAAAD/1VVVVVVVVP/qqqqqqqqs=";
  const INT32 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAQAAAAIAAAA=";
  const x = [0, 1, 2, 3, 4, 5].map((v) => v / 3);

  it("decodeNpyArray reads numpy's float64 unrounded, in versions 1.0 to 3.0, and float32", () => {
    for (const file of [F8, F8_V2]) {
      const a = decodeNpyArray(Buffer.from(file, "base64"));
      expect(a.dtype).toBe("float64");
      expect(a.data).toBeInstanceOf(Float64Array);
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual(x); // bit for bit: 1/3 is not a float32
    }
    const f4 = decodeNpyArray(Buffer.from(F4_V3, "base64"));
    expect(f4).toMatchObject({ dtype: "float32", shape: [2, 2] });
    expect(Array.from(f4.data)).toEqual([0, 1, 2, 3]);
    expect(decodeNpyArray(encodeNpy(Float32Array.of(0.1, 0.2), [2])).data).toEqual(Float32Array.of(0.1, 0.2));
    // encodeNpy writes a Float64Array as '<f8', byte for byte what numpy wrote.
    expect(Buffer.from(encodeNpy(Float64Array.from(x), [2, 3])).toString("base64")).toBe(F8);
  });

  it("decodeNpyArray refuses what it would misread, naming the caller", () => {
    expect(() => decodeNpyArray(Buffer.from(FORTRAN, "base64"), "dale-metrics: a.npy")).toThrow(/^dale-metrics: a\.npy: only C order \(fortran_order False\) is supported/);
    expect(() => decodeNpyArray(Buffer.from(BIG_ENDIAN, "base64"))).toThrow(/only little-endian float32 \('<f4'\) or float64 \('<f8'\) is supported, got descr ">f8"/);
    expect(() => decodeNpyArray(Buffer.from(INT32, "base64"))).toThrow(/got descr "<i4"/);
    const f8 = Buffer.from(F8, "base64");
    expect(() => decodeNpyArray(f8.subarray(0, f8.length - 8))).toThrow(/expected 48 data bytes, got 40/);
    expect(() => decodeNpyArray(f8.subarray(0, 40))).toThrow(/the file ends before them/);
    expect(() => decodeNpyArray(f8.subarray(0, 5))).toThrow(/bad magic/);
    const v4 = Buffer.from(f8);
    v4[6] = 4;
    expect(() => decodeNpyArray(v4)).toThrow(/expected \.npy version 1\.0, 2\.0 or 3\.0, got 4\.0/);
    // decodeNpy keeps its float32 contract and says where float64 is read.
    expect(() => decodeNpy(f8)).toThrow(/decodeNpy: only little-endian float32 is supported here, got float64; decodeNpyArray reads float64 too/);
  });
});
