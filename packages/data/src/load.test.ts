import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTar } from "nanotar";
import { CIFAR_RECORD_BYTES, DATASET_SPECS, parseCifarBatch, parseIdxImages, parseIdxLabels } from "./index";
import { gunzipFile, loadBuiltinMnist, loadDataset } from "./node";

// Real-data tests read $DALE_DATA_DIR (CI sets it), else /work/shared/datasets when it exists, else they skip.
const dataDir = process.env.DALE_DATA_DIR ?? (existsSync("/work/shared/datasets") ? "/work/shared/datasets" : undefined);
if (!dataDir) console.warn("@dale/data: skipping real-dataset tests: DALE_DATA_DIR is unset and /work/shared/datasets does not exist.");

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const histogram = (labels: Uint8Array) => {
  const h = new Array<number>(10).fill(0);
  for (const y of labels) h[y]!++;
  return h;
};

const tmpRoots: string[] = [];
function tmpRoot(): string {
  const d = mkdtempSync(join(tmpdir(), "dale-data-"));
  tmpRoots.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** Writes files into <root>/<name>/ plus a SHA256SUMS that covers them (unless sums is false). */
function writeDataset(root: string, name: string, files: Record<string, Uint8Array>, sums: Record<string, string> | false = {}): string {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  for (const [f, bytes] of Object.entries(files)) writeFileSync(join(folder, f), bytes);
  if (sums !== false) {
    const lines = Object.entries(files).map(([f, bytes]) => `${sums[f] ?? sha(bytes)}  ${f}`);
    writeFileSync(join(folder, "SHA256SUMS"), `${lines.join("\n")}\n`);
  }
  return folder;
}

function idxImages(count: number, h: number, w: number, magic = 0x803): Buffer {
  const b = Buffer.alloc(16 + count * h * w);
  b.writeUInt32BE(magic, 0);
  b.writeUInt32BE(count, 4);
  b.writeUInt32BE(h, 8);
  b.writeUInt32BE(w, 12);
  for (let i = 16; i < b.length; i++) b[i] = i % 256;
  return b;
}
function idxLabels(labels: number[], magic = 0x801): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(magic, 0);
  b.writeUInt32BE(labels.length, 4);
  labels.forEach((y, i) => (b[8 + i] = y));
  return b;
}
/** `n` labels 0, 1, ..., 9, 0, 1, ... */
const cycleLabels = (n: number): number[] => Array.from({ length: n }, (_, i) => i % 10);

/** A well-formed MNIST-shaped test split (10000 images of 28x28, labels i % 10), gzipped once. */
let fullTest: Record<string, Uint8Array> | undefined;
function mnistTestFiles(): Record<string, Uint8Array> {
  fullTest ??= {
    "t10k-images-idx3-ubyte.gz": gzipSync(idxImages(10000, 28, 28), { level: 1 }),
    "t10k-labels-idx1-ubyte.gz": gzipSync(idxLabels(cycleLabels(10000)), { level: 1 }),
  };
  return fullTest;
}

describe.skipIf(!dataDir)("real datasets", () => {
  it("loads the MNIST test split: 10000 28x28x1 digits with the known class counts, first label 7", async () => {
    const ds = await loadDataset("mnist", { split: "test", dir: dataDir! });
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([10000, 28, 28, 1]);
    expect(ds.images.length).toBe(10000 * 784);
    expect(ds.labels.length).toBe(10000);
    expect(histogram(ds.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(ds.labels[0]).toBe(7);
    expect(ds.name).toBe("mnist");
    expect(ds.split).toBe("test");
    expect(ds.source).toBe(join(dataDir!, "mnist"));
  });

  it("honours limit", async () => {
    const ds = await loadDataset("mnist", { split: "test", dir: dataDir!, limit: 5 });
    expect(ds.count).toBe(5);
    expect(ds.images.length).toBe(5 * 784);
    expect(ds.labels[0]).toBe(7);
  });

  it("finds the data through DALE_DATA_DIR when no dir is given", async () => {
    const saved = process.env.DALE_DATA_DIR;
    process.env.DALE_DATA_DIR = dataDir!;
    try {
      const ds = await loadDataset("kmnist", { split: "test", cacheDir: tmpRoot(), limit: 3 });
      expect(ds.source).toBe(join(dataDir!, "kmnist"));
    } finally {
      if (saved === undefined) delete process.env.DALE_DATA_DIR;
      else process.env.DALE_DATA_DIR = saved;
    }
  });

  it("loads the CIFAR-10 test split: 10000 32x32x3 records, 1000 per class, in NHWC", async () => {
    const ds = await loadDataset("cifar10", { split: "test", dir: dataDir! });
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([10000, 32, 32, 3]);
    expect(ds.images.length).toBe(10000 * 3072);
    expect(histogram(ds.labels)).toEqual(new Array(10).fill(1000));
    // NHWC: pixel (0,0) of record 0 is R, G, B taken from the three planes.
    const raw = gunzipFile("test", join(dataDir!, "cifar10", "test_batch.bin.gz"), readFileSync(join(dataDir!, "cifar10", "test_batch.bin.gz")));
    expect(Array.from(ds.images.subarray(0, 3))).toEqual([raw[1], raw[1 + 1024], raw[1 + 2048]]);
    expect(ds.images[3 * 33 + 2]).toBe(raw[1 + 2048 + 33]); // row 1, col 1, blue
  });

  it("loads one CIFAR-10 training batch file with 10000 records", async () => {
    const file = join(dataDir!, "cifar10", "data_batch_1.bin.gz");
    const batch = parseCifarBatch("test", file, gunzipFile("test", file, readFileSync(file)));
    expect(batch.count).toBe(10000);
    const ds = await loadDataset("cifar10", { split: "train", dir: dataDir!, limit: 10000 }); // reads data_batch_1 only
    expect(ds.count).toBe(10000);
    expect(ds.labels).toEqual(batch.labels);
  });

  it("KMNIST: the test split loads; the train split names the missing images file and says our copy lacks it", async () => {
    const test = await loadDataset("kmnist", { split: "test", dir: dataDir! });
    expect(test.count).toBe(10000);
    expect(histogram(test.labels)).toEqual(new Array(10).fill(1000));
    const missing = join(dataDir!, "kmnist", "train-images-idx3-ubyte.gz");
    const err = await loadDataset("kmnist", { split: "train", dir: dataDir! }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(missing);
    expect(msg).toMatch(/lacks train-images-idx3-ubyte\.gz/);
    expect(msg).toMatch(/DALE_DATA_DIR/);
    expect(msg).toMatch(/download: true/);
  });

  it("rejects a copy with one flipped byte against its SHA256SUMS, naming the file and both hashes", async () => {
    const src = join(dataDir!, "mnist");
    const root = tmpRoot();
    const labels = new Uint8Array(readFileSync(join(src, "t10k-labels-idx1-ubyte.gz")));
    labels[100]! ^= 0xff;
    const images = readFileSync(join(src, "t10k-images-idx3-ubyte.gz"));
    const folder = writeDataset(root, "mnist", { "t10k-images-idx3-ubyte.gz": images, "t10k-labels-idx1-ubyte.gz": labels }, {
      "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(
      `sha256 mismatch for ${join(folder, "t10k-labels-idx1-ubyte.gz")}: expected f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 (from ${join(folder, "SHA256SUMS")}), got ${sha(labels)}`,
    );
  });

  it("without a SHA256SUMS, checks against the built-in table of official hashes", async () => {
    const src = join(dataDir!, "mnist");
    const root = tmpRoot();
    const labels = new Uint8Array(readFileSync(join(src, "t10k-labels-idx1-ubyte.gz")));
    const images = readFileSync(join(src, "t10k-images-idx3-ubyte.gz"));
    writeDataset(root, "mnist", { "t10k-images-idx3-ubyte.gz": images, "t10k-labels-idx1-ubyte.gz": labels }, false);
    expect((await loadDataset("mnist", { split: "test", dir: root, limit: 1 })).labels[0]).toBe(7);
    labels[50]! ^= 1;
    writeFileSync(join(root, "mnist", "t10k-labels-idx1-ubyte.gz"), labels);
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(/sha256 mismatch .*built-in table of official mnist checksums/);
  });

  it("rejects a gz cut in half with a clear message (hash listed for the cut file, so parsing is reached)", async () => {
    const src = join(dataDir!, "mnist");
    const labels = readFileSync(join(src, "t10k-labels-idx1-ubyte.gz"));
    const half = labels.subarray(0, labels.length >> 1);
    const images = readFileSync(join(src, "t10k-images-idx3-ubyte.gz"));
    const root = tmpRoot();
    const folder = writeDataset(root, "mnist", { "t10k-images-idx3-ubyte.gz": images, "t10k-labels-idx1-ubyte.gz": half });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(
      `${join(folder, "t10k-labels-idx1-ubyte.gz")} is not a complete gzip stream`,
    );
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(/truncated/);
  });
});

describe("format checks on small fixtures", () => {
  it("loads a well-formed IDX pair of the named dataset's shape and count", async () => {
    const root = tmpRoot();
    writeDataset(root, "fashion-mnist", mnistTestFiles());
    const ds = await loadDataset("fashion-mnist", { split: "test", dir: root });
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([10000, 28, 28, 1]);
    expect(Array.from(ds.labels.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(ds.images[0]).toBe(16);
  });

  it("checks IDX headers against the named dataset: MNIST as 784x1, 56x14 or 0x0, 0 images, or the wrong count is an error naming the file", async () => {
    const root = tmpRoot();
    const labels = mnistTestFiles()["t10k-labels-idx1-ubyte.gz"]!;
    const cases: [Buffer, Uint8Array, string | RegExp][] = [
      // The same bytes as 10000 images of 28x28: only the header tells them apart.
      [idxImages(10000, 784, 1), labels, "t10k-images-idx3-ubyte.gz declares images of 784x1; expected 28x28 for the mnist test split."],
      [idxImages(10000, 56, 14), labels, "declares images of 56x14; expected 28x28 for the mnist test split."],
      [idxImages(10000, 0, 0), labels, "declares images of 0x0; expected 28x28 for the mnist test split."],
      [idxImages(0, 28, 28), gzipSync(idxLabels([])), "t10k-images-idx3-ubyte.gz declares 0 images; expected 10000 for the mnist test split."],
      [idxImages(9999, 28, 28), labels, "declares 9999 images; expected 10000 for the mnist test split."],
      [idxImages(10000, 28, 28), gzipSync(idxLabels(cycleLabels(9999))), "t10k-labels-idx1-ubyte.gz declares 9999 labels; expected 10000 for the mnist test split."],
    ];
    for (const [images, labelFile, message] of cases) {
      const folder = writeDataset(root, "mnist", { "t10k-images-idx3-ubyte.gz": gzipSync(images, { level: 1 }), "t10k-labels-idx1-ubyte.gz": labelFile });
      const error = (await loadDataset("mnist", { split: "test", dir: root }).catch((e: Error) => e)) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toMatch(/^loadDataset: /);
      expect(error.message).toContain(typeof message === "string" ? message : "");
      expect(error.message).toContain(folder);
    }
    // Each split of each dataset has its count: a training file of 10000 images is not MNIST's training split.
    writeDataset(root, "kmnist", {
      "train-images-idx3-ubyte.gz": gzipSync(idxImages(10000, 28, 28), { level: 1 }),
      "train-labels-idx1-ubyte.gz": gzipSync(idxLabels(cycleLabels(10000))),
    });
    await expect(loadDataset("kmnist", { split: "train", dir: root })).rejects.toThrow(/train-images-idx3-ubyte\.gz declares 10000 images; expected 60000 for the kmnist train split\./);
    expect(DATASET_SPECS.kmnist.count).toEqual({ train: 60000, test: 10000 });
    expect(DATASET_SPECS.cifar10).toEqual({ height: 32, width: 32, channels: 3, count: { train: 50000, test: 10000 } });
  });

  it("stops decompressing at the size the file's format allows", async () => {
    const root = tmpRoot();
    const long = Buffer.concat([idxImages(10000, 28, 28), Buffer.alloc(4 * 2 ** 20)]);
    writeDataset(root, "mnist", { ...mnistTestFiles(), "t10k-images-idx3-ubyte.gz": gzipSync(long, { level: 1 }) });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(
      /t10k-images-idx3-ubyte\.gz decompresses to more than 7840016 bytes; expected 7840016 \(16-byte header \+ 10000 images of 28x28\), the file is not the expected one/,
    );
    writeDataset(root, "cifar10", { "test_batch.bin.gz": gzipSync(new Uint8Array(CIFAR_RECORD_BYTES * 10001)) });
    await expect(loadDataset("cifar10", { split: "test", dir: root })).rejects.toThrow(/test_batch\.bin\.gz decompresses to more than 30730000 bytes; expected 30730000 \(10000 records of 3073 bytes\)/);
  });

  it("names the file for a directory, an empty file, an unreadable SHA256SUMS and bad path options", async () => {
    const root = tmpRoot();
    const folder = writeDataset(root, "mnist", { "t10k-labels-idx1-ubyte.gz": mnistTestFiles()["t10k-labels-idx1-ubyte.gz"]! });
    mkdirSync(join(folder, "t10k-images-idx3-ubyte.gz"));
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(
      new RegExp(`^loadDataset: cannot read ${join(folder, "t10k-images-idx3-ubyte.gz")} \\(EISDIR.*\\); expected a gzip file of the mnist dataset\\.`),
    );
    const empty = tmpRoot();
    writeDataset(empty, "mnist", { "t10k-images-idx3-ubyte.gz": new Uint8Array(0), "t10k-labels-idx1-ubyte.gz": new Uint8Array(0) });
    await expect(loadDataset("mnist", { split: "test", dir: empty })).rejects.toThrow(/^loadDataset: .*t10k-images-idx3-ubyte\.gz is not a complete gzip stream \(unexpected end of file\)/);
    const sums = tmpRoot();
    mkdirSync(join(sums, "mnist", "SHA256SUMS"), { recursive: true });
    writeFileSync(join(sums, "mnist", "t10k-images-idx3-ubyte.gz"), mnistTestFiles()["t10k-images-idx3-ubyte.gz"]!);
    writeFileSync(join(sums, "mnist", "t10k-labels-idx1-ubyte.gz"), mnistTestFiles()["t10k-labels-idx1-ubyte.gz"]!);
    await expect(loadDataset("mnist", { split: "test", dir: sums })).rejects.toThrow(/^loadDataset: cannot read .*SHA256SUMS \(EISDIR.*\); expected a sha256sum listing\./);
    await expect(loadDataset("mnist", { split: "test", dir: 3 as unknown as string })).rejects.toThrow(/^loadDataset: options\.dir must be a non-empty path string, got 3\./);
    await expect(loadDataset("mnist", { split: "test", cacheDir: "" })).rejects.toThrow(/^loadDataset: options\.cacheDir must be a non-empty path string/);
    await expect(loadDataset("mnist", { split: "test", download: "yes" as unknown as boolean })).rejects.toThrow(/^loadDataset: options\.download must be true or false, got "yes"\./);
    expect(() => loadBuiltinMnist({ path: root })).toThrow(new RegExp(`^loadBuiltinMnist: cannot read ${root} \\(EISDIR`));
    expect(() => loadBuiltinMnist({ path: 7 as unknown as string })).toThrow(/^loadBuiltinMnist: options\.path must be a non-empty path string, got 7\./);
  });

  it("parseIdxImages, parseIdxLabels and parseCifarBatch take what to expect and name it", () => {
    const raw = new Uint8Array(idxImages(2, 3, 4));
    expect(parseIdxImages("f", "x", raw).count).toBe(2);
    expect(() => parseIdxImages("f", "x", raw, { height: 28, width: 28, of: "mnist" })).toThrow("f: x declares images of 3x4; expected 28x28 for mnist.");
    expect(() => parseIdxImages("f", "x", new Uint8Array(idxImages(0, 3, 4)))).toThrow("f: x declares 0 images; expected at least 1.");
    expect(() => parseIdxImages("f", "x", new Uint8Array(idxImages(2, 0, 4)))).toThrow("f: x declares images of 0x4; expected positive dimensions.");
    expect(() => parseIdxLabels("f", "y", new Uint8Array(idxLabels([])))).toThrow("f: y declares 0 labels; expected at least 1.");
    expect(() => parseIdxLabels("f", "y", new Uint8Array(idxLabels([1, 2])), { count: 3 })).toThrow("f: y declares 2 labels; expected 3.");
    expect(() => parseCifarBatch("f", "z", new Uint8Array(0), null)).toThrow("f: z holds no CIFAR-10 records (0 bytes after decompression); expected at least one records of 3073 bytes.");
    expect(parseCifarBatch("f", "z", new Uint8Array(2 * CIFAR_RECORD_BYTES), null).count).toBe(2);
    expect(() => parseCifarBatch("f", "z", new Uint8Array(2 * CIFAR_RECORD_BYTES), undefined)).toThrow("f: z holds 2 CIFAR-10 records; expected 10000.");
    expect(() => parseCifarBatch("f", "z", new Uint8Array(CIFAR_RECORD_BYTES), 0)).toThrow("f: expectedRecords must be a positive integer or null, got 0.");
  });

  it("rejects a wrong IDX magic, naming the file and the expected magic", async () => {
    const root = tmpRoot();
    const folder = writeDataset(root, "mnist", {
      "t10k-images-idx3-ubyte.gz": gzipSync(idxImages(3, 2, 2, 0x801)),
      "t10k-labels-idx1-ubyte.gz": gzipSync(idxLabels([1, 2, 3])),
    });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(
      `${join(folder, "t10k-images-idx3-ubyte.gz")} has IDX magic 0x00000801; expected 0x00000803`,
    );
    writeDataset(root, "mnist", {
      "t10k-images-idx3-ubyte.gz": mnistTestFiles()["t10k-images-idx3-ubyte.gz"]!,
      "t10k-labels-idx1-ubyte.gz": gzipSync(idxLabels(cycleLabels(10000), 0x803)),
    });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(/has IDX magic 0x00000803; expected 0x00000801/);
  });

  it("rejects a label count that disagrees with the images", async () => {
    const root = tmpRoot();
    writeDataset(root, "mnist", {
      "t10k-images-idx3-ubyte.gz": mnistTestFiles()["t10k-images-idx3-ubyte.gz"]!,
      "t10k-labels-idx1-ubyte.gz": gzipSync(idxLabels([1, 2])),
    });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz declares 2 labels; expected 10000 for the mnist test split/);
  });

  it("rejects a truncated IDX payload (a complete gzip of too few bytes)", async () => {
    const root = tmpRoot();
    writeDataset(root, "mnist", {
      "t10k-images-idx3-ubyte.gz": gzipSync(idxImages(10000, 28, 28).subarray(0, 16 + 10)),
      "t10k-labels-idx1-ubyte.gz": mnistTestFiles()["t10k-labels-idx1-ubyte.gz"]!,
    });
    await expect(loadDataset("mnist", { split: "test", dir: root })).rejects.toThrow(/holds 26 bytes after decompression; expected 7840016 .*truncated/);
  });

  it("rejects a CIFAR batch whose length is not a multiple of 3073, or not 10000 records", async () => {
    const root = tmpRoot();
    const folder = writeDataset(root, "cifar10", { "test_batch.bin.gz": gzipSync(new Uint8Array(CIFAR_RECORD_BYTES * 2 + 5)) });
    await expect(loadDataset("cifar10", { split: "test", dir: root })).rejects.toThrow(
      `${join(folder, "test_batch.bin.gz")} holds ${CIFAR_RECORD_BYTES * 2 + 5} bytes after decompression, not a multiple of the 3073-byte`,
    );
    writeDataset(root, "cifar10", { "test_batch.bin.gz": gzipSync(new Uint8Array(CIFAR_RECORD_BYTES * 2)) });
    await expect(loadDataset("cifar10", { split: "test", dir: root })).rejects.toThrow(/holds 2 CIFAR-10 records; expected 10000/);
  });

  it("converts CIFAR planes to NHWC", () => {
    const rec = new Uint8Array(CIFAR_RECORD_BYTES);
    rec[0] = 4;
    for (let p = 0; p < 1024; p++) {
      rec[1 + p] = p % 251;
      rec[1025 + p] = 100;
      rec[2049 + p] = 200;
    }
    const { images, labels } = parseCifarBatch("t", "f", rec, 1);
    expect(labels[0]).toBe(4);
    expect(Array.from(images.subarray(0, 6))).toEqual([0, 100, 200, 1, 100, 200]);
    expect(images[(32 * 2 + 3) * 3]).toBe(67); // row 2, col 3, red
  });

  it("lists every path and directory it tried when files are missing, and how to provide them", async () => {
    const a = tmpRoot();
    const cache = tmpRoot();
    const saved = process.env.DALE_DATA_DIR;
    process.env.DALE_DATA_DIR = a;
    try {
      const err = (await loadDataset("mnist", { split: "train", cacheDir: cache }).catch((e: Error) => e)) as Error;
      for (const root of [a, cache]) {
        expect(err.message).toContain(join(root, "mnist", "train-images-idx3-ubyte.gz"));
        expect(err.message).toContain(join(root, "mnist", "train-labels-idx1-ubyte.gz"));
      }
      expect(err.message).toMatch(/Directories tried: /);
      expect(err.message).toMatch(/DALE_DATA_DIR.*\{ dir \}.*\{ download: true \}/);
    } finally {
      if (saved === undefined) delete process.env.DALE_DATA_DIR;
      else process.env.DALE_DATA_DIR = saved;
    }
  });

  it("names the argument in option errors", async () => {
    // @ts-expect-error testing a bad name
    await expect(loadDataset("svhn", { split: "test" })).rejects.toThrow(/loadDataset: name must be one of/);
    // @ts-expect-error testing a bad split
    await expect(loadDataset("mnist", { split: "val" })).rejects.toThrow(/loadDataset: options.split must be "train" or "test"/);
    await expect(loadDataset("mnist", { split: "test", limit: 0 })).rejects.toThrow(/options.limit must be a positive integer/);
  });

});

describe("download (local HTTP server, never the network)", () => {
  let server: Server;
  let baseUrl: string;
  const served: Record<string, Uint8Array> = {
    "t10k-images-idx3-ubyte.gz": gzipSync(idxImages(10000, 28, 28), { level: 1 }),
    "t10k-labels-idx1-ubyte.gz": gzipSync(idxLabels([5, 9, ...cycleLabels(9998)])),
  };
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const name = (req.url ?? "").replace(/^\/mnist\//, "");
      requests.push(name);
      const body = served[name];
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const hashes = () => Object.fromEntries(Object.entries(served).map(([f, b]) => [f, sha(b)]));

  it("does not download unless asked", async () => {
    requests.length = 0;
    await expect(loadDataset("mnist", { split: "test", dir: tmpRoot(), cacheDir: tmpRoot(), _download: { baseUrl } })).rejects.toThrow(/not found/);
    expect(requests).toEqual([]);
  });

  it("fetches, verifies and renames into the cache; a second load reads the cache", async () => {
    const cache = tmpRoot();
    const ds = await loadDataset("mnist", { split: "test", dir: tmpRoot(), cacheDir: cache, download: true, _download: { baseUrl, sha256: hashes() } });
    expect(ds.count).toBe(10000);
    expect(Array.from(ds.labels.subarray(0, 3))).toEqual([5, 9, 0]);
    expect(ds.source).toBe(join(cache, "mnist"));
    expect(readdirSync(join(cache, "mnist")).sort()).toEqual(["SHA256SUMS", ...Object.keys(served)].sort()); // no leftover temp files
    expect(readFileSync(join(cache, "mnist", "SHA256SUMS"), "utf8")).toContain(hashes()["t10k-labels-idx1-ubyte.gz"]);
    requests.length = 0;
    const again = await loadDataset("mnist", { split: "test", dir: cache, _download: { baseUrl, sha256: hashes() } });
    expect(again.count).toBe(10000);
    expect(requests).toEqual([]);
  });

  it("rejects a download whose hash does not match and leaves nothing in the cache", async () => {
    const cache = tmpRoot();
    const bad = { ...hashes(), "t10k-images-idx3-ubyte.gz": "0".repeat(64) };
    await expect(
      loadDataset("mnist", { split: "test", dir: tmpRoot(), cacheDir: cache, download: true, _download: { baseUrl, sha256: bad } }),
    ).rejects.toThrow(/sha256 mismatch for .*t10k-images-idx3-ubyte\.gz: expected 0{64}/);
    expect(existsSync(join(cache, "mnist", "t10k-images-idx3-ubyte.gz"))).toBe(false);
    expect(readdirSync(join(cache, "mnist")).filter((f) => f.includes(".part-"))).toEqual([]);
  });

  it("without an override, checks downloads against the official hashes", async () => {
    const cache = tmpRoot();
    await expect(loadDataset("mnist", { split: "test", dir: tmpRoot(), cacheDir: cache, download: true, _download: { baseUrl } })).rejects.toThrow(
      /expected 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 \(from the built-in table/,
    );
  });

  it("reports an HTTP error with the URL", async () => {
    await expect(
      loadDataset("kmnist", { split: "test", dir: tmpRoot(), cacheDir: tmpRoot(), download: true, _download: { baseUrl: baseUrl.replace("mnist/", "nothing/") } }),
    ).rejects.toThrow(/download of http:\/\/127\.0\.0\.1:\d+\/nothing\/t10k-images-idx3-ubyte\.gz failed: HTTP 404/);
  });
});

describe("returned arrays", () => {
  it("are plain Uint8Arrays, not Buffers", async () => {
    const root = tmpRoot();
    writeDataset(root, "mnist", mnistTestFiles());
    for (const limit of [undefined, 2]) {
      const ds = await loadDataset("mnist", { split: "test", dir: root, limit });
      expect(Buffer.isBuffer(ds.images) || Buffer.isBuffer(ds.labels)).toBe(false);
      expect(ds.images).toBeInstanceOf(Uint8Array);
      expect(ds.images.length).toBe(ds.count * 784);
    }
  });
});

describe("CIFAR-10 download (a synthetic archive from a local HTTP server, never the network)", () => {
  let server: Server;
  let baseUrl: string;
  const BATCHES = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"];
  /** A batch file whose record i has label i % 10 and first pixel `marker`, so that files cannot be mixed up. */
  const batch = (marker: number) => {
    const b = new Uint8Array(10000 * CIFAR_RECORD_BYTES);
    for (let i = 0; i < 10000; i++) {
      b[i * CIFAR_RECORD_BYTES] = i % 10;
      b[i * CIFAR_RECORD_BYTES + 1] = marker;
    }
    return b;
  };
  const archive = (names: string[]) => gzipSync(createTar(names.map((n, k) => ({ name: `cifar-10-batches-bin/${n}.bin`, data: batch(k + 1) }))));
  const served: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    served["/full/cifar-10-binary.tar.gz"] = archive(BATCHES);
    served["/short/cifar-10-binary.tar.gz"] = archive(BATCHES.slice(0, 4));
    server = createServer((req, res) => {
      const body = served[req.url ?? ""];
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(Buffer.from(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("downloads the archive once, checks it, splits it into one gzip file per batch and deletes it", async () => {
    const cache = tmpRoot();
    const body = served["/full/cifar-10-binary.tar.gz"] as Uint8Array;
    const _download = { baseUrl: `${baseUrl}/full/`, sha256: { "cifar-10-binary.tar.gz": sha(body) } };
    const test = await loadDataset("cifar10", { split: "test", dir: tmpRoot(), cacheDir: cache, download: true, _download });
    expect(test.count).toBe(10000);
    expect(Array.from(test.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(test.images[0]).toBe(6); // the test batch's marker: the sixth file of the archive
    const files = readdirSync(join(cache, "cifar10")).sort();
    expect(files).toEqual([...BATCHES.map((b) => `${b}.bin.gz`), "SHA256SUMS"].sort());
    // Every batch came out; later loads need no download and check the recorded hashes.
    const train = await loadDataset("cifar10", { split: "train", dir: cache, limit: 20000 });
    expect(train.count).toBe(20000);
    expect([train.images[0], train.images[10000 * 3072]]).toEqual([1, 2]);
    writeFileSync(join(cache, "cifar10", "data_batch_2.bin.gz"), gzipSync(batch(9)));
    await expect(loadDataset("cifar10", { split: "train", dir: cache, limit: 20000 })).rejects.toThrow(/sha256 mismatch for .*data_batch_2\.bin\.gz/);
  });

  it("rejects an archive that is not the official one, and one that lacks a batch", async () => {
    const cache = tmpRoot();
    // No override: the archive is checked against the official sha256 of cifar-10-binary.tar.gz.
    await expect(loadDataset("cifar10", { split: "test", dir: tmpRoot(), cacheDir: cache, download: true, _download: { baseUrl: `${baseUrl}/full/` } })).rejects.toThrow(
      /sha256 mismatch for .*cifar-10-binary\.tar\.gz: expected c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd/,
    );
    expect(existsSync(join(cache, "cifar10", "test_batch.bin.gz"))).toBe(false);
    const body = served["/short/cifar-10-binary.tar.gz"] as Uint8Array;
    await expect(
      loadDataset("cifar10", { split: "test", dir: tmpRoot(), cacheDir: tmpRoot(), download: true, _download: { baseUrl: `${baseUrl}/short/`, sha256: { "cifar-10-binary.tar.gz": sha(body) } } }),
    ).rejects.toThrow(/cifar-10-binary\.tar\.gz has no cifar-10-batches-bin\/data_batch_5\.bin; it is not the official CIFAR-10 binary archive/);
  });
});
