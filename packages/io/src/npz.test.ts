import fc from "fast-check";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { encodeNpy } from "./npy";
import { decodeNpz } from "./npz";

// The metrics package's cli test reads .npz files that numpy itself wrote (np.savez and np.savez_compressed, in
// packages/metrics/src/__fixtures__/cli-reference.json); these build archives with fflate's writer.
const mu = Float64Array.from([0.5, -1, 2]);
const sigma = Float64Array.from([1, 0.2, 0, 0.2, 2, 0.1, 0, 0.1, 3]);
const members = { "mu.npy": encodeNpy(mu, [3]), "sigma.npy": encodeNpy(sigma, [3, 3]) };

describe("decodeNpz", () => {
  it("reads stored and deflated archives of .npy members by key, float64 unrounded", () => {
    for (const level of [0, 9] as const) {
      const got = decodeNpz(zipSync(members, { level }));
      expect(Object.keys(got).sort()).toEqual(["mu", "sigma"]);
      expect(got.mu).toEqual({ shape: [3], dtype: "float64", data: mu });
      expect(got.sigma?.shape).toEqual([3, 3]);
      expect(Array.from(got.sigma?.data ?? [])).toEqual(Array.from(sigma));
    }
  });

  it("keeps a member named __proto__ as an array, without touching the result's prototype", () => {
    const got = decodeNpz(zipSync({ "__proto__.npy": encodeNpy(mu, [3]) }));
    expect(Object.keys(got)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(got)).toBeNull();
  });

  it("refuses what is not an archive of float arrays, naming the caller and the member", () => {
    expect(() => decodeNpz(encodeNpy(mu, [3]), { caller: "dale-metrics: a.npz" })).toThrow(/^dale-metrics: a\.npz: not an \.npz file \(it does not start as a ZIP archive\)/);
    expect(() => decodeNpz(zipSync({ "notes.txt": new Uint8Array([104, 105]) }))).toThrow(/^decodeNpz: member "notes\.txt" is not a \.npy array/);
    expect(() => decodeNpz(zipSync({ "x.npy": new Uint8Array([1, 2, 3]) }))).toThrow(/^decodeNpz: x\.npy: not a \.npy file/);
    expect(() => decodeNpz(zipSync({}))).toThrow(/^decodeNpz: the archive holds no arrays/);
    const full = zipSync(members, { level: 9 });
    expect(() => decodeNpz(full.subarray(0, full.length - 30))).toThrow(/^decodeNpz: not a readable \.npz file/);
  });

  it("refuses an archive whose members inflate past maxBytes, before inflating them", () => {
    const big = zipSync({ "zeros.npy": encodeNpy(new Float32Array(1 << 16), [1 << 16]) }, { level: 9 });
    expect(big.length).toBeLessThan(2000); // a small file that inflates to 256 KiB
    expect(() => decodeNpz(big, { maxBytes: 100_000 })).toThrow(/^decodeNpz: the archive's members inflate to more than 100000 bytes \(at zeros\.npy\); refused/);
    expect(decodeNpz(big).zeros?.shape).toEqual([1 << 16]);
  });

  it("turns any corruption of a valid archive into a decodeNpz error, never a crash of another kind", () => {
    const valid = zipSync(members, { level: 6 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bytes = valid.slice();
        bytes[at] = value;
        try {
          decodeNpz(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(/^decodeNpz: /);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
