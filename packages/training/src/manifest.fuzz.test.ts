// Fuzz: a checkpoint.json with random fields replaced, removed or added (seeded fast-check) must end, whether opened
// for sampling or for a resume, in a correct result or an error that names the function or the file, never in a bare
// engine error (TypeError, RangeError) or a hang.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCheckpoint, readTrainerManifest } from "./open-checkpoint";
import { train } from "./train";

const tmp = mkdtempSync(join(tmpdir(), "dale-manifest-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = join(tmp, "run");
let original: Record<string, unknown>;
let dir: string;

beforeAll(async () => {
  await train({ dataset: "builtin-mnist", process: "gbm", model: "tiny", trainImages: 32, batch: 8, sampleCount: 0, checkpointEvery: 0, steps: 2, out: run });
  dir = readTrainerManifest(run).dir;
  original = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8")) as Record<string, unknown>;
}, 120_000);

/** Every path to a value in a JSON tree (objects and arrays), root excluded. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...paths((value as Record<string | number, unknown>)[k], [...prefix, k])]);
}

const chosen: string[] = [];
type Edit = { kind: "set"; at: number; value: unknown } | { kind: "delete"; at: number };

function applyEdits(base: Record<string, unknown>, edits: Edit[]): unknown {
  const doc = structuredClone(base) as Record<string | number, unknown>;
  for (const edit of edits) {
    const all = paths(doc);
    if (all.length === 0) break;
    const path = all[edit.at % all.length] as (string | number)[];
    let parent = doc as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = path[path.length - 1] as string | number;
    chosen.push(`${edit.kind} ${path.join(".")}${edit.kind === "set" ? ` = ${JSON.stringify(edit.value)}` : ""}`);
    if (edit.kind === "delete") {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else parent[key] = edit.value;
  }
  return doc;
}

const jsonValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.constantFrom(0, -1, 1e308, -0.5, 3.5, 2 ** 31, 1e-300),
  fc.string({ maxLength: 8 }),
  fc.constantFrom("F16", "F32", "unet", "gbm", "vp", "../../etc/passwd", "model.safetensors", "ema.safetensors"),
  fc.array(fc.integer({ min: -2, max: 600 }), { maxLength: 4 }),
  fc.constant({}),
  fc.constant([]),
);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: jsonValue }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
);

/** A named error: starts with a function's name and a colon, or names the checkpoint's file. */
function expectNamed(e: unknown): void {
  expect(e).toBeInstanceOf(Error);
  const error = e as Error;
  expect(["TypeError", "RangeError", "SyntaxError", "ReferenceError"], error.stack).not.toContain(error.constructor.name);
  expect(error.message, error.stack).toMatch(/^[\w.]+(\(\))?: |checkpoint\.json|\.safetensors|loss\.csv/);
}

describe("fuzzed checkpoint.json", () => {
  it("opening for sampling or resuming ends in a result or a named error, each within 4 s", async () => {
    const target = join(tmp, "target");
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
        rmSync(target, { recursive: true, force: true });
        cpSync(run, target, { recursive: true, verbatimSymlinks: true });
        const manifestPath = join(readTrainerManifest(target).dir, "checkpoint.json");
        writeFileSync(manifestPath, JSON.stringify(applyEdits(original, edits)));
        // FUZZ_LOG=<file> records each case's edits, to find the one that failed or was slow.
        const edited = chosen.splice(0).join("; ");
        if (process.env.FUZZ_LOG) appendFileSync(process.env.FUZZ_LOG, `${edited}\n`);
        const t0 = performance.now();
        try {
          const ckpt = await openCheckpoint(target);
          ckpt.dispose();
        } catch (e) {
          expectNamed(e);
        }
        try {
          await train({ out: target, resume: true, steps: 3, sampleCount: 0 });
        } catch (e) {
          expectNamed(e);
        }
        expect(performance.now() - t0).toBeLessThan(4000);
      }),
      { seed: 42, numRuns: 150 },
    );
  }, 240_000);

  it("a checkpoint.json that is not JSON, or not an object, is a named error", async () => {
    for (const text of ["", "{", "null", "[]", "42", '"x"']) {
      const target = join(tmp, `text-${text.length}-${text.charCodeAt(0) || 0}`);
      cpSync(run, target, { recursive: true, verbatimSymlinks: true });
      writeFileSync(join(readTrainerManifest(target).dir, "checkpoint.json"), text);
      expect(() => readTrainerManifest(target)).toThrow(/readTrainerManifest: .*checkpoint\.json (is not valid JSON|must hold a JSON object)|was not written by dale-train/);
      await expect(train({ out: target, resume: true, steps: 3 })).rejects.toThrow(/checkpoint\.json/);
    }
  });
});
