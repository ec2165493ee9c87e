// Every js/ts code block of a package README that imports something is a runnable example: it is extracted, its
// types stripped (esbuild), written as an .mjs file in this package (whose node_modules holds every @dale package by
// name, as a user's project would) and run with Node in an empty folder holding only the repository's checkpoints/. A block that cannot run here says so
// in an HTML comment on the line before its fence, `<!-- readme-examples: skip: <reason> -->`; the reason is printed.
// A block whose first line is `// <name>.js: ...` is a module that another block imports: it is written under that
// name (and run too).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = fileURLToPath(new URL("..", import.meta.url));
const repo = resolve(here, "../..");
const work = join(here, ".run");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// The examples run in an empty folder that holds only the repository's checkpoints/, as a user's project would.
const cwd = mkdtempSync(join(tmpdir(), "dale-readme-"));
symlinkSync(join(repo, "checkpoints"), join(cwd, "checkpoints"));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

interface Example {
  pkg: string;
  index: number;
  line: number;
  lang: string;
  code: string;
  skip: string | null;
}

/** The code blocks of a README with their language, first line and skip reason. */
function examplesOf(markdown: string, pkg: string): Example[] {
  const lines = markdown.split("\n");
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(js|ts|javascript|typescript)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.findIndex((l, k) => k > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${pkg}/README.md:${i + 1}: a code block is never closed.`);
    const code = lines.slice(i + 1, end).join("\n");
    const skip = /<!--\s*readme-examples:\s*skip:\s*(.+?)\s*-->/.exec(lines[i - 1] ?? "")?.[1] ?? null;
    if (/^\s*import\s/m.test(code)) out.push({ pkg, index: out.length, line: i + 1, lang: open[1] as string, code, skip });
    i = end;
  }
  return out;
}

const examples = readdirSync(join(repo, "packages")).flatMap((pkg) => {
  try {
    return examplesOf(readFileSync(join(repo, "packages", pkg, "README.md"), "utf8"), pkg);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
});

/** A block's code as a Node ES module, types stripped. */
const compile = async (ex: Example) => (await transform(ex.code, { loader: ex.lang.startsWith("t") ? "ts" : "js", format: "esm", target: "node20" })).code;
/** The name a block is imported by (`// shard.js: ...` on its first line), if any. */
const moduleName = (ex: Example) => /^\/\/ ([\w-]+\.js):/.exec(ex.code)?.[1];

describe("README examples", () => {
  beforeAll(async () => {
    for (const ex of examples) {
      const name = moduleName(ex);
      if (name !== undefined) writeFileSync(join(work, name), await compile(ex));
    }
  });

  it("finds an example in every package README", () => {
    const withExamples = new Set(examples.map((e) => e.pkg));
    const packages = readdirSync(join(repo, "packages"));
    expect(packages.filter((p) => !withExamples.has(p))).toEqual([]);
  });

  for (const ex of examples) {
    it.skipIf(ex.skip !== null)(`packages/${ex.pkg}/README.md:${ex.line} runs${ex.skip ? ` (skipped: ${ex.skip})` : ""}`, async () => {
      const file = join(work, moduleName(ex) ?? `${ex.pkg}-${ex.index}.mjs`);
      writeFileSync(file, await compile(ex));
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [file], {
        cwd,
        encoding: "utf8",
        timeout: 240_000,
        env: { ...process.env, DALE_BACKEND: process.env.DALE_BACKEND ?? "" },
      }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`packages/${ex.pkg}/README.md:${ex.line} failed:\n${e.stderr ?? ""}\n${e.stdout ?? ""}\n${e.message}`);
      });
      expect(typeof stdout).toBe("string");
      expect(stderr).not.toMatch(/Error:|error:/);
    });
  }
});
