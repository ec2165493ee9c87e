import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fail, userArgv, userPath } from "./index";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe("fail", () => {
  it("prints '[prefix] error: message' without the stack and sets the exit code", () => {
    vi.stubEnv("DALE_DEBUG", "");
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    fail("train", new Error("--resume needs a checkpoint"));
    expect(err).toHaveBeenCalledWith("[train] error: --resume needs a checkpoint");
    expect(process.exitCode).toBe(1);
    fail("train", "a thrown string", 2);
    expect(err).toHaveBeenLastCalledWith("[train] error: a thrown string");
    expect(process.exitCode).toBe(2);
  });

  it("prints the stack with DALE_DEBUG", () => {
    vi.stubEnv("DALE_DEBUG", "1");
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const e = new Error("boom");
    fail("sample", e);
    expect(err).toHaveBeenCalledWith(`[sample] error: ${e.stack}`);
  });
});

describe("userArgv", () => {
  it("drops one leading '--' among the user's arguments, and nothing else", () => {
    expect(userArgv(["node", "train.js", "--", "--steps", "10"])).toEqual(["node", "train.js", "--steps", "10"]);
    expect(userArgv(["node", "train.js", "--steps", "10"])).toEqual(["node", "train.js", "--steps", "10"]);
    expect(userArgv(["node", "train.js", "--steps", "--", "x"])).toEqual(["node", "train.js", "--steps", "--", "x"]);
    expect(userArgv(["node", "train.js", "--", "--"])).toEqual(["node", "train.js", "--"]);
    expect(userArgv(["node", "train.js"])).toEqual(["node", "train.js"]);
  });

  it("reads process.argv by default", () => {
    expect(userArgv()).toEqual(process.argv[2] === "--" ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv);
  });
});

describe("userPath", () => {
  it("resolves against INIT_CWD when it exists, else the working directory; absolute paths stay", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-kit-"));
    try {
      vi.stubEnv("INIT_CWD", dir);
      expect(userPath("out/run")).toBe(join(dir, "out/run"));
      expect(userPath("/abs/x")).toBe("/abs/x");
      vi.stubEnv("INIT_CWD", join(dir, "missing"));
      expect(userPath("out")).toBe(resolve(process.cwd(), "out"));
      vi.stubEnv("INIT_CWD", "");
      expect(userPath("out")).toBe(resolve(process.cwd(), "out"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
