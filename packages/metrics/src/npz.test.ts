import fc from "fast-check";
import { encodeNpy } from "@dale/io";
import { describe, expect, it } from "vitest";
import { readNpz } from "./npz";
import { zipArchive } from "./torch/__fixtures__/torch-files";

// cli.test.ts reads .npz files that numpy itself wrote (np.savez and np.savez_compressed, in
// __fixtures__/cli-reference.json); these archives come from the zip writer of the torch reader's tests.
const mu = Float64Array.from([0.5, -1, 2]);
const sigma = Float64Array.from([1, 0.2, 0, 0.2, 2, 0.1, 0, 0.1, 3]);
const members = (deflate: boolean) => [
  { name: "mu.npy", data: encodeNpy(mu, [3]), deflate },
  { name: "sigma.npy", data: encodeNpy(sigma, [3, 3]), deflate },
];

describe("readNpz", () => {
  it("reads stored and deflated archives of .npy members by key, float64 unrounded", () => {
    for (const deflate of [false, true]) {
      const got = readNpz(zipArchive(members(deflate)), "t.npz");
      expect([...got.keys()]).toEqual(["mu", "sigma"]);
      expect(got.get("mu")).toEqual({ shape: [3], dtype: "float64", data: mu });
      expect(Array.from(got.get("sigma")?.data ?? [])).toEqual(Array.from(sigma));
    }
    // A member named __proto__ is an array like any other.
    expect([...readNpz(zipArchive([{ name: "__proto__.npy", data: encodeNpy(mu, [3]) }]), "t.npz").keys()]).toEqual(["__proto__"]);
  });

  it("refuses what is not an archive of float arrays, naming the file and the member", () => {
    expect(() => readNpz(encodeNpy(mu, [3]), "dale-metrics: a.npz")).toThrow(/^dale-metrics: a\.npz: not an \.npz file \(it does not start as a zip archive\)/);
    expect(() => readNpz(zipArchive([{ name: "notes.txt", data: new Uint8Array([104, 105]) }]), "t.npz")).toThrow(/^t\.npz: member "notes\.txt" is not a \.npy array/);
    expect(() => readNpz(zipArchive([{ name: "x.npy", data: new Uint8Array([1, 2, 3]) }]), "t.npz")).toThrow(/^t\.npz: x\.npy: not a \.npy file/);
    expect(() => readNpz(zipArchive([]), "t.npz")).toThrow(/^t\.npz: the archive holds no arrays/);
    const bad = zipArchive([{ name: "mu.npy", data: encodeNpy(mu, [3]), crc: 1234 }]);
    expect(() => readNpz(bad, "t.npz")).toThrow(/^t\.npz \(mu\.npy\) fails its CRC-32 check/);
  });

  it("refuses members that declare more than maxBytes before inflating any", () => {
    const big = zipArchive([{ name: "zeros.npy", data: encodeNpy(new Float32Array(1 << 16), [1 << 16]), deflate: true }]);
    expect(big.length).toBeLessThan(2000); // a small file that inflates to 256 KiB
    expect(() => readNpz(big, "t.npz", { maxBytes: 100_000 })).toThrow(/^t\.npz: its members declare 262272 bytes in all, more than the 100000 allowed; refused before inflating/);
    expect(readNpz(big, "t.npz").get("zeros")?.shape).toEqual([1 << 16]);
    // A member that under-declares its size stops at the declared size.
    const lying = zipArchive([{ name: "zeros.npy", data: encodeNpy(new Float32Array(1 << 16), [1 << 16]), deflate: true, declaredSize: 1000 }]);
    expect(() => readNpz(lying, "t.npz")).toThrow(/^t\.npz \(zeros\.npy\) inflates to more than the 1000 bytes its central directory entry declares/);
  });

  it("ends any one-byte corruption of an archive in arrays or an error that names the file", () => {
    const valid = zipArchive(members(true));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bytes = valid.slice();
        bytes[at] = value;
        try {
          readNpz(bytes, "t.npz");
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(/^t\.npz/);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
