// An edited checkpoint.json is caught before a resume or a sampling run trusts it (issue 15).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchOrder } from "./data";
import { openCheckpoint, readTrainerManifest } from "./open-checkpoint";
import { train } from "./train";

const tmp = mkdtempSync(join(tmpdir(), "dale-manifest-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = join(tmp, "run");
const options = { dataset: "builtin-mnist", process: "gbm", model: "tiny", trainImages: 64, batch: 8, sampleCount: 0, checkpointEvery: 0 } as const;

beforeAll(async () => {
  await train({ ...options, out: run, steps: 4 });
}, 120_000);

/** checkpoint.json as the edits below see it. */
interface Manifest {
  step: number;
  files: Record<string, unknown>;
  extra: { position: unknown; lossRows: number; sde: { prior: { loc: unknown } } };
}

/** A copy of the trained run whose checkpoint.json (and optionally loss.csv) is edited. */
function edited(name: string, edit: (manifest: Manifest) => void, lossRows?: (rows: string[]) => string[]): { out: string; dir: string } {
  const out = join(tmp, name);
  cpSync(run, out, { recursive: true, verbatimSymlinks: true });
  const dir = readTrainerManifest(out).dir;
  const path = join(dir, "checkpoint.json");
  const manifest = JSON.parse(readFileSync(path, "utf8")) as Manifest;
  edit(manifest);
  writeFileSync(path, JSON.stringify(manifest));
  if (lossRows) {
    const csv = join(dir, "loss.csv");
    const [header, ...rows] = readFileSync(csv, "utf8").trim().split("\n");
    writeFileSync(csv, `${[header, ...lossRows(rows)].join("\n")}\n`);
  }
  return { out, dir };
}

describe("checkpoint.json cross-checks", () => {
  it("a step edited alone is refused by resume and by sampling, naming the file and both values", async () => {
    const { out } = edited("step", (m) => (m.step = 1000));
    await expect(train({ out, resume: true, steps: 1001 })).rejects.toThrow(/checkpoint\.json: step 1000 disagrees with extra\.position\.step 4/);
    expect(() => readTrainerManifest(out)).toThrow(/checkpoint\.json: step 1000 disagrees with extra\.position\.step 4/);
    await expect(openCheckpoint(out)).rejects.toThrow(/disagrees/);
  });

  it("a consistent edit of step, position, lossRows and loss.csv is caught by the optimizer's own step count", async () => {
    const position = new BatchOrder(64, 8, 0).position(3);
    const { out } = edited(
      "consistent",
      (m) => {
        m.step = 2;
        m.extra.position = { step: 2, epoch: position.epoch, batchInEpoch: position.batchInEpoch, stepsPerEpoch: 8 };
        m.extra.lossRows = 2;
      },
      (rows) => rows.slice(0, 2),
    );
    expect(() => readTrainerManifest(out)).not.toThrow(); // sampling uses only the weights, which are valid
    await expect(train({ out, resume: true, steps: 6 })).rejects.toThrow(/step 2 disagrees with the optimizer state, which has taken 4 steps/);
  });

  it("a missing EMA entry, a missing optimizer, and a loss.csv that does not match are refused on resume", async () => {
    await expect(train({ out: edited("no-ema", (m) => delete m.files.ema).out, resume: true, steps: 6 })).rejects.toThrow(/lists no EMA weights.*resuming would restart the EMA/);
    await expect(train({ out: edited("no-opt", (m) => delete m.files.optimizer).out, resume: true, steps: 6 })).rejects.toThrow(/lists no optimizer state/);
    await expect(train({ out: edited("short-csv", () => {}, (r) => r.slice(0, 3)).out, resume: true, steps: 6 })).rejects.toThrow(/loss\.csv has 3 rows, but checkpoint\.json says step 4/);
    await expect(train({ out: edited("bad-row", () => {}, (r) => [r[0] as string, "7,0.5", ...r.slice(2)]).out, resume: true, steps: 6 })).rejects.toThrow(/loss\.csv: row 2 is "7,0\.5", expected "2,<finite loss>"/);
  });

  it("a null prior location in the stored process is an error, not a prior at 0", () => {
    const { out } = edited("prior", (m) => (m.extra.sde.prior.loc = [null]));
    expect(() => readTrainerManifest(out)).toThrow(/lognormalPrior: loc must be finite everywhere, got null at index 0/);
  });

  it("a checkpoint from before the EMA warm-up (no emaWarmup stored) resumes with the plain EMA it was trained with", async () => {
    const { out } = edited("no-warmup", (m) => delete (m.extra as unknown as { config: Record<string, unknown> }).config.emaWarmup);
    expect((await train({ out, resume: true, steps: 5, sampleCount: 0 })).config.emaWarmup).toBe(false);
  });

  it("a checkpoint from before trainSeconds resumes without inventing one", async () => {
    const { out } = edited("no-seconds", (m) => delete (m.extra as { trainSeconds?: number }).trainSeconds);
    const result = await train({ out, resume: true, steps: 5, sampleCount: 0 });
    expect(result.trainSeconds).toBeUndefined();
    expect((JSON.parse(readFileSync(join(out, "checkpoint", "checkpoint.json"), "utf8")) as { extra: Record<string, unknown> }).extra).not.toHaveProperty("trainSeconds");
  });

  it("a resume must read the same images: an edited trainImages is refused by the data's count", async () => {
    const { out } = edited("data", (m) => delete (m.extra as unknown as { config: Record<string, unknown> }).config.trainImages);
    await expect(train({ out, resume: true, steps: 6 })).rejects.toThrow(/the training data \(4000 images 28x28x1 of builtin-mnist\) differ from the checkpoint's \(64 images 28x28x1\)/);
  });

  it("threads and sample grids are settings of the call, never read from checkpoint.json", async () => {
    const { out } = edited("call-settings", (m) => {
      const config = (m.extra as unknown as { config: Record<string, unknown> }).config;
      Object.assign(config, { sampleCount: 846_604, sampleEvery: 1, workers: 200, dataDir: "/nowhere" });
    });
    const result = await train({ out, resume: true, steps: 5, sampleCount: 0 });
    expect(result.config).toMatchObject({ sampleCount: 0, sampleEvery: 0, workers: 0 });
    expect(result.config.dataDir).toBeUndefined();
  });

  it("the untouched run resumes", async () => {
    const out = join(tmp, "clean");
    cpSync(run, out, { recursive: true, verbatimSymlinks: true });
    const result = await train({ out, resume: true, steps: 5, sampleCount: 0 });
    expect(result).toMatchObject({ start: 4, step: 5 });
  });
});
