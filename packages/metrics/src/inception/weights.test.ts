import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inceptionFeatureExtractor } from "./extractor";
import { FID_INCEPTION_WEIGHTS_FILE, FID_INCEPTION_WEIGHTS_URL, fidInceptionWeights, sha256Hex } from "./weights";

// No test touches the network: downloads come from a server on 127.0.0.1 started here.
describe("fidInceptionWeights", () => {
  const payload = new TextEncoder().encode("not really the weights");
  const prefix = sha256Hex(payload).slice(0, 8);
  let server: Server;
  let base: string;
  let root: string;
  const savedTorchHome = process.env.TORCH_HOME;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "dale-weights-"));
    process.env.TORCH_HOME = join(root, "torch-home"); // keep the real torch hub cache out of these tests
    server = createServer((req, res) => {
      if (req.url === "/ok.pth") res.end(payload);
      else {
        res.statusCode = 404;
        res.end("no");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
    if (savedTorchHome === undefined) delete process.env.TORCH_HOME;
    else process.env.TORCH_HOME = savedTorchHome;
  });

  it("without download: true, says which files it looked for and how to provide them", async () => {
    const cacheDir = join(root, "empty");
    const error = await fidInceptionWeights({ cacheDir }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(join(cacheDir, FID_INCEPTION_WEIGHTS_FILE));
    expect(message).toContain(join(root, "torch-home", "hub", "checkpoints", FID_INCEPTION_WEIGHTS_FILE));
    expect(message).toContain("{ download: true }");
    expect(message).toContain(FID_INCEPTION_WEIGHTS_URL);
    expect(message).toContain("{ weights:");
    // The extractor passes the same error on.
    await expect(inceptionFeatureExtractor({ cacheDir })).rejects.toThrow(/were not found\. Looked for:/);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it("downloads, checks the sha256 prefix, and caches atomically", async () => {
    const cacheDir = join(root, "dl");
    const got = await fidInceptionWeights({ cacheDir, download: true, _download: { url: `${base}/ok.pth`, sha256Prefix: prefix } });
    expect(got.path).toBe(join(cacheDir, FID_INCEPTION_WEIGHTS_FILE));
    expect(got.sha256.startsWith(prefix)).toBe(true);
    expect(readdirSync(cacheDir)).toEqual([FID_INCEPTION_WEIGHTS_FILE]);
    // Found in the cache the second time (the URL is not asked again: this one would 404).
    const again = await fidInceptionWeights({ cacheDir, download: true, _download: { url: `${base}/missing.pth`, sha256Prefix: prefix } });
    expect(again.sha256).toBe(got.sha256);
  });

  it("refuses a download whose hash does not match, and keeps nothing", async () => {
    const cacheDir = join(root, "bad");
    await expect(fidInceptionWeights({ cacheDir, download: true, _download: { url: `${base}/ok.pth`, sha256Prefix: "00000000" } })).rejects.toThrow(
      /does not start with 00000000; it was not saved/,
    );
    expect(existsSync(join(cacheDir, FID_INCEPTION_WEIGHTS_FILE))).toBe(false);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
    await expect(fidInceptionWeights({ cacheDir, download: true, _download: { url: `${base}/missing.pth`, sha256Prefix: prefix } })).rejects.toThrow(
      /HTTP 404/,
    );
    await expect(fidInceptionWeights({ cacheDir, download: true, _download: { url: "http://127.0.0.1:1/x.pth" } })).rejects.toThrow(
      /download of http:\/\/127\.0\.0\.1:1\/x\.pth failed .*copy it to/,
    );
  });

  it("refuses a cached file whose hash does not match its name", async () => {
    const cacheDir = join(root, "corrupt");
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, FID_INCEPTION_WEIGHTS_FILE), "truncated");
    await expect(fidInceptionWeights({ cacheDir })).rejects.toThrow(/has SHA-256 [0-9a-f]{64}, which does not start with 6726825d.*Delete it/);
  });

  it("the extractor reports unreadable or invalid weights files by path", async () => {
    await expect(inceptionFeatureExtractor({ weights: join(root, "nope.pth") })).rejects.toThrow(/cannot read options\.weights .*nope\.pth/);
    const junk = join(root, "junk.pth");
    writeFileSync(junk, "hello");
    await expect(inceptionFeatureExtractor({ weights: junk })).rejects.toThrow(/junk\.pth is not a PyTorch file/);
    await expect(inceptionFeatureExtractor({ weights: junk, batchSize: 0 })).rejects.toThrow(/options\.batchSize must be a positive integer, got 0/);
  });
});
