import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_MNIST_SHA256, builtinMnistPath, loadBuiltinMnist } from "./node";

describe("built-in MNIST subset", () => {
  it("ships 4000 28x28x1 digits, 400 per class, and matches its recorded sha256", () => {
    const file = builtinMnistPath();
    const bytes = readFileSync(file);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(BUILTIN_MNIST_SHA256);
    expect(bytes.length).toBeLessThan(2_000_000);
    const ds = loadBuiltinMnist();
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([4000, 28, 28, 1]);
    expect(ds.images.length).toBe(4000 * 784);
    const hist = new Array<number>(10).fill(0);
    for (const y of ds.labels) hist[y]!++;
    expect(hist).toEqual(new Array(10).fill(400));
    expect(ds.name).toBe("mnist");
    expect(ds.split).toBe("train");
    // MNIST train starts 5, 0, 4, 1, 9: the subset keeps file order.
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
  });

  it("rejects a modified copy", () => {
    const dir = mkdtempSync(join(tmpdir(), "dale-builtin-"));
    try {
      const copy = join(dir, "mnist-4k.bin.gz");
      copyFileSync(builtinMnistPath(), copy);
      const b = readFileSync(copy);
      b[1000]! ^= 1;
      writeFileSync(copy, b);
      expect(() => loadBuiltinMnist({ path: copy })).toThrow(`loadBuiltinMnist: sha256 mismatch for ${copy}: expected ${BUILTIN_MNIST_SHA256}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
