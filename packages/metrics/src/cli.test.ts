// dale-metrics against scipy and the reference implementations, on float64 features exactly as numpy.save wrote them
// (tooling/metrics-reference/make_cli_reference.py), and on the float32 sets of metrics-reference.json.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeNpy } from "@dale/io";
import { afterAll, describe, expect, it } from "vitest";
import { reference, referenceSet, relErr } from "./__fixtures__/reference";
import { runMetricsCli, type MetricsCliResult } from "./cli";

interface CliReference {
  real: string;
  fake: string;
  fid: { pytorchFid: number; eigh: number };
  kid: { subsets: number; subsetSize: number; seed: number; m: number; mean: number; std: number };
  kidStandardized: { mean: number; std: number };
  pr: { k: number; precision: number; recall: number };
  realStatsNpz: string;
  fakeStatsNpzCompressed: string;
  fakeFeaturesNpz: string;
  objectNpz: string;
}
const cliRef = JSON.parse(readFileSync(new URL("./__fixtures__/cli-reference.json", import.meta.url), "utf8")) as CliReference;
const tmp = mkdtempSync(join(tmpdir(), "dale-metrics-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const real = join(tmp, "real.npy");
const fake = join(tmp, "fake.npy");
writeFileSync(real, Buffer.from(cliRef.real, "base64"));
writeFileSync(fake, Buffer.from(cliRef.fake, "base64"));
const npz = (key: "realStatsNpz" | "fakeStatsNpzCompressed" | "fakeFeaturesNpz" | "objectNpz") => {
  const file = join(tmp, `${key}.npz`);
  writeFileSync(file, Buffer.from(cliRef[key], "base64"));
  return file;
};
const kidArgs = ["--kid-subsets", String(cliRef.kid.subsets), "--kid-subset-size", String(cliRef.kid.subsetSize), "--seed", String(cliRef.kid.seed)];
const run = (args: string[]) => runMetricsCli(args) as MetricsCliResult;

describe("dale-metrics", () => {
  it("matches scipy's FID (pytorch-fid's formula) to 1e-6 on numpy's float64 files, with KID and precision/recall", () => {
    const r = run([real, fake, "--metrics", "fid,kid,pr", "--standardize", ...kidArgs]);
    expect(r.real).toEqual({ file: real, kind: "features", rows: 160, dim: 24, dtype: "float64" });
    expect(r.fake).toMatchObject({ rows: 140, dim: 24, dtype: "float64" });
    expect(relErr(r.fid as number, cliRef.fid.pytorchFid)).toBeLessThan(1e-6);
    expect(relErr(r.fid as number, cliRef.fid.eigh)).toBeLessThan(1e-9);
    expect(r.kid).toEqual({ mean: expect.any(Number), std: expect.any(Number), subsets: cliRef.kid.subsets, subsetSize: cliRef.kid.m, seed: cliRef.kid.seed });
    expect(relErr(r.kid?.mean as number, cliRef.kid.mean)).toBeLessThan(1e-9);
    expect(relErr(r.kid?.std as number, cliRef.kid.std)).toBeLessThan(1e-8);
    expect(relErr(r.kidStandardized?.mean as number, cliRef.kidStandardized.mean)).toBeLessThan(1e-9);
    expect({ precision: r.precision, recall: r.recall, k: r.k }).toEqual({ precision: cliRef.pr.precision, recall: cliRef.pr.recall, k: cliRef.pr.k });
  });

  it("gives metrics-reference.json's values on its float32 sets", () => {
    const write = (name: string) => {
      const s = referenceSet(name);
      const file = join(tmp, `${name}.npy`);
      writeFileSync(file, encodeNpy(s.data, [s.rows, s.dim]));
      return file;
    };
    const c = reference.kid.find((k) => k.a === "A" && k.b === "B" && k.degree === 3 && k.subsetSize === 100)!;
    const r = run([write("A"), write("B"), "--metrics", "fid,kid,pr", "--kid-subsets", String(c.subsets), "--kid-subset-size", String(c.subsetSize), "--seed", String(c.seed)]);
    const fid = reference.fid.find((f) => f.a === "A" && f.b === "B")!;
    expect(relErr(r.fid as number, fid.pytorchFid)).toBeLessThan(1e-6);
    expect(relErr(r.kid?.mean as number, c.mean)).toBeLessThan(1e-9);
    const pr = reference.pr.find((p) => p.real === "A" && p.fake === "B" && p.k === 3)!;
    expect([r.precision, r.recall]).toEqual([pr.precision, pr.recall]);
    // The tolerance means something: swapping the sets changes KID's subsets and so its value.
    expect(relErr(run([write("B"), write("A"), ...kidArgs]).kid?.mean as number, c.mean)).toBeGreaterThan(1e-6);
  });

  it("reads pytorch-fid's statistics (.npz of mu and sigma, stored or compressed) and features in an .npz, as numpy wrote them", () => {
    const realStats = npz("realStatsNpz");
    const fakeStats = npz("fakeStatsNpzCompressed");
    // Statistics on both sides, on one side, and features from an .npz: the same FID as scipy's on the rows, to 1e-6.
    for (const [a, b] of [[realStats, fakeStats], [realStats, fake], [real, fakeStats], [realStats, npz("fakeFeaturesNpz")]] as const) {
      const r = run([a, b]);
      expect(relErr(r.fid as number, cliRef.fid.pytorchFid)).toBeLessThan(1e-6);
      expect(r.kid).toBeUndefined(); // FID alone is the default when a file holds statistics
    }
    expect(run([realStats, fake]).real).toEqual({ file: realStats, kind: "statistics", dim: 24, dtype: "float64" });
    const features = run([real, npz("fakeFeaturesNpz"), "--metrics", "fid,kid,pr", ...kidArgs]);
    expect(features.fake).toMatchObject({ kind: "features", rows: 140, dim: 24 });
    expect(relErr(features.kid?.mean as number, cliRef.kid.mean)).toBeLessThan(1e-9);
    expect(() => run([realStats, fake, "--metrics", "fid,kid"])).toThrow(/dale-metrics: REAL .*realStatsNpz\.npz holds only mu and sigma, from which FID alone can be computed; drop kid from --metrics/);
    // numpy's object arrays need pickle to read: refused, never unpickled.
    expect(() => run([npz("objectNpz"), fake])).toThrow(/dale-metrics: .*objectNpz\.npz: mu\.npy: .*/);
    const junk = join(tmp, "junk.npz");
    writeFileSync(junk, Buffer.from("PK\x03\x04 not really a zip"));
    expect(() => run([junk, fake])).toThrow(/dale-metrics: .*junk\.npz starts like an \.npz file but is not a readable zip archive/);
  });

  it("prints the default metrics (fid, kid) as JSON from the bin, and refuses bad input by name", () => {
    const bin = fileURLToPath(new URL("../bin/dale-metrics.mjs", import.meta.url));
    const printed = JSON.parse(execFileSync(process.execPath, [bin, real, fake, ...kidArgs], { encoding: "utf8" })) as MetricsCliResult;
    expect(relErr(printed.fid as number, cliRef.fid.pytorchFid)).toBeLessThan(1e-6);
    expect(relErr(printed.kid?.mean as number, cliRef.kid.mean)).toBeLessThan(1e-9);
    expect(printed.precision).toBeUndefined();
    const bad = spawnSync(process.execPath, [bin, real], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^dale-metrics: give two files, REAL and FAKE \(\.npy or \.npz\), got 1\./);

    const images = join(tmp, "images.npy");
    writeFileSync(images, encodeNpy(new Float32Array(2 * 4 * 4), [2, 4, 4, 1]));
    const narrow = join(tmp, "narrow.npy");
    writeFileSync(narrow, encodeNpy(new Float32Array(10 * 3), [10, 3]));
    const nan = join(tmp, "nan.npy");
    writeFileSync(nan, encodeNpy(Float32Array.from({ length: 10 * 24 }, (_, i) => (i === 37 ? Number.NaN : i)), [10, 24]));
    const corrupt = join(tmp, "corrupt.npy");
    writeFileSync(corrupt, readFileSync(real).subarray(0, 500));
    expect(() => run([real, images])).toThrow(/dale-metrics: .*images\.npy: FAKE features must have shape \[rows, dim\], got \[2, 4, 4, 1\]/);
    expect(() => run([real, narrow])).toThrow(/REAL .*real\.npy has 24 features per row and FAKE .*narrow\.npy has 3; they must match/);
    expect(() => run([real, nan])).toThrow(/NaN/);
    expect(() => run([real, corrupt])).toThrow(/dale-metrics: .*corrupt\.npy: expected 30720 data bytes, got \d+/);
    expect(() => run([real, join(tmp, "absent.npy")])).toThrow(/dale-metrics: cannot read FAKE .*absent\.npy/);
    expect(() => run([real, fake, "--metrics", "fid,is"])).toThrow(/--metrics takes fid, kid, pr, got "is"/);
    expect(() => run([real, fake, "--kid-subsets", "0"])).toThrow(/--kid-subsets must be an integer >= 1, got "0"/);
    expect(() => run([real, fake, "--k", "2.5"])).toThrow(/--k must be an integer >= 1, got "2\.5"/);
    expect(() => run([real, fake, "--metrics", "fid", "--standardize"])).toThrow(/--standardize applies to KID/);
    expect(() => run([real, fake, "--frechet"])).toThrow(/dale-metrics: Unknown option '--frechet'/);
    expect(runMetricsCli(["--help"])).toEqual({ help: true });
  });
});
