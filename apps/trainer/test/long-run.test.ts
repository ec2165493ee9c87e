// The CI check of the issue: a tiny model trained for a few hundred steps on the CPU, killed, resumed, and compared
// with an uninterrupted run. In its own file so vitest runs it beside trainer.test.ts.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
// dist/, or another build of the app (DALE_TRAINER_DIST=dist-dev while dist/ is in use).
const TRAIN = join(process.env.DALE_TRAINER_DIST ? resolve(root, process.env.DALE_TRAINER_DIST) : join(root, "dist"), "train.js");
const STEPS = 300;
const KILL_AFTER = 100; // SIGKILL once a checkpoint at a step >= this exists
// --sample-every 0: no intermediate grids; the end-of-run grid is kept small (16 images, 10 sampler steps).
const ARGS = [
  "--model", "tiny", "--dataset", "builtin-mnist", "--batch", "8", "--steps", String(STEPS), "--checkpoint-every", "50",
  "--sample-every", "0", "--sample-count", "16", "--sample-steps", "10", "--log-every", "50", "--seed", "1",
];

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs dale-train as a child process; `poll` (every 200 ms) may kill it. */
function train(args: string[], poll?: (kill: () => void) => void): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [TRAIN, ...args], { env: { ...process.env, DALE_BACKEND: "wasm" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = poll ? setInterval(() => poll(() => child.kill("SIGKILL")), 200) : null;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearInterval(timer);
      resolvePromise({ code, signal, stderr });
    });
  });
}

/** The step of `<dir>/checkpoint`, or -1 while there is none (or its manifest is being replaced). */
function checkpointStep(dir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dir, "checkpoint", "checkpoint.json"), "utf8")) as { step: number }).step;
  } catch {
    return -1;
  }
}

const bytes = (dir: string, file: string) => readFileSync(join(dir, "checkpoint", file));
const losses = (dir: string) =>
  readFileSync(join(dir, "loss.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => Number(l.split(",")[1]));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let tmp: string;
beforeAll(() => {
  if (!existsSync(TRAIN)) throw new Error("build first: pnpm --filter @dale/trainer build (turbo's test task does it).");
  tmp = mkdtempSync(join(tmpdir(), "dale-long-run-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("dale-train: a few hundred steps on the CPU, killed and resumed", () => {
  it(`train ${STEPS} = killed with SIGKILL after a checkpoint at step >= ${KILL_AFTER} + resume to ${STEPS}, byte for byte; the loss goes down`, async () => {
    const [a, b] = [join(tmp, "a"), join(tmp, "b")];
    let killedAt = -1;
    const [ra, rb] = await Promise.all([
      train([...ARGS, "--out", a]),
      train([...ARGS, "--out", b], (kill) => {
        const step = checkpointStep(b);
        if (killedAt < 0 && step >= KILL_AFTER) {
          killedAt = step;
          kill();
        }
      }),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.signal, rb.stderr).toBe("SIGKILL");
    expect(killedAt).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(killedAt).toBeLessThan(STEPS);

    const rb2 = await train([...ARGS, "--resume", "--out", b]);
    expect(rb2.code, rb2.stderr).toBe(0);
    expect(rb2.stderr).toMatch(/resumed from .* at step (\d+)/);
    expect(Number(/resumed from .* at step (\d+)/.exec(rb2.stderr)?.[1])).toBeGreaterThanOrEqual(KILL_AFTER);

    expect(checkpointStep(a)).toBe(STEPS);
    expect(checkpointStep(b)).toBe(STEPS);
    for (const file of ["model.safetensors", "ema.safetensors", "optimizer.safetensors"]) {
      expect(bytes(b, file).equals(bytes(a, file)), file).toBe(true);
    }
    expect(readFileSync(join(b, "loss.csv"), "utf8")).toBe(readFileSync(join(a, "loss.csv"), "utf8"));

    // One loss per step; the mean of the last 50 is well below the mean of the first 50 (measured ratio 0.28; asserted < 0.5).
    const l = losses(a);
    expect(l).toHaveLength(STEPS);
    expect(l.every(Number.isFinite)).toBe(true);
    const first = mean(l.slice(0, 50));
    const last = mean(l.slice(-50));
    console.log(`[long-run] loss: mean of the first 50 ${first.toFixed(4)}, of the last 50 ${last.toFixed(4)} (ratio ${(last / first).toFixed(3)})`);
    expect(last).toBeLessThan(0.5 * first); // measured: 0.28 (seed 1)

    // The end-of-run sample grid: 16 images of 28x28 in 4 columns with 2 px padding.
    for (const dir of [a, b]) {
      const png = join(dir, `samples-${STEPS}.png`);
      expect(existsSync(png), png).toBe(true);
      const image = PNG.sync.read(readFileSync(png));
      expect(image.width).toBe(4 * 30 + 2);
      expect(image.height).toBe(4 * 30 + 2);
      expect(existsSync(join(dir, "loss.png"))).toBe(true);
    }
  }, 420_000);
});
