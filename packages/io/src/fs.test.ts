import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { syncDir, writeFileAtomic } from "./fs";

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dale-io-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates missing folders, replaces the file and leaves no temporary file", async () => {
    const path = join(dir, "a", "b", "x.bin");
    await writeFileAtomic(path, Uint8Array.of(1, 2, 3));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, "text");
    expect(await readFile(path, "utf8")).toBe("text");
    expect(await readdir(join(dir, "a", "b"))).toEqual(["x.bin"]);
  });

  it("removes its temporary file when the rename fails", async () => {
    const path = join(dir, "taken");
    await mkdir(join(path, "inside"), { recursive: true }); // a non-empty folder cannot be replaced by a file
    await expect(writeFileAtomic(path, "x")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["taken"]);
  });

  it("syncDir accepts a folder and ignores one it cannot open", async () => {
    await expect(syncDir(dir)).resolves.toBeUndefined();
    await expect(syncDir(join(dir, "missing"))).resolves.toBeUndefined();
  });
});
