import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointFromFiles, type CheckpointManifest } from "./checkpoint";
import { fromPretrained as fromPretrainedNode } from "./checkpoint-folder";
import { fromPretrained, toPixels, type PretrainedPipeline } from "./pretrained";

// The EDM-recipe GBM model of the repository (mnistSmall, F16, with EMA; re-exported as it trains): read only.
const CHECKPOINT = fileURLToPath(new URL("../../../checkpoints/mnist-gbm", import.meta.url));
const manifestText = readFileSync(join(CHECKPOINT, "checkpoint.json"), "utf8");
const STEP = (JSON.parse(manifestText) as { step: number }).step;

const temps: string[] = [];
/** The committed manifest without its recommended sampler (whose guide lives in a folder the copies do not have). */
const plainManifestText = (() => {
  const m = JSON.parse(manifestText) as { extra: Record<string, unknown> };
  delete m.extra.sampling;
  return JSON.stringify(m);
})();
/** A copy of checkpoint.json (without extra.sampling, then edited by `edit`) and ema.safetensors in a fresh folder. */
function copyWith(edit: (m: CheckpointManifest & { extra: Record<string, unknown> }) => unknown = (m) => m, files = ["ema.safetensors"]): string {
  const dir = mkdtempSync(join(tmpdir(), "dale-pretrained-"));
  temps.push(dir);
  for (const f of files) copyFileSync(join(CHECKPOINT, f), join(dir, f));
  const manifest = JSON.parse(plainManifestText) as CheckpointManifest & { extra: Record<string, unknown> };
  writeFileSync(join(dir, "checkpoint.json"), JSON.stringify(edit(manifest) ?? manifest));
  return dir;
}

/** Serves the repository's checkpoints/ folder over http://127.0.0.1:<port>/, recording every path asked for. */
let server: Server;
let base: string;
const requested: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requested.push(path);
    const m = /^\/(mnist-gbm)\/((?:guide\/)?[\w.-]+)$/.exec(path);
    try {
      if (!m) throw new Error("not found");
      const bytes = readFileSync(join(CHECKPOINT, m[2] as string));
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length }).end(bytes);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

async function pixels(pipe: PretrainedPipeline, options: Parameters<PretrainedPipeline["sample"]>[0]): Promise<Float32Array> {
  const images = await pipe.sample(options);
  const data = (await images.data()) as Float32Array;
  images.dispose();
  return data;
}

describe("fromPretrained", () => {
  it("loads checkpoints/mnist-gbm from its folder (Node): EMA weights, GBM, its recommended autoguided sampler, images in [0, 1]; no tensor leaks", async () => {
    const before = tf.memory().numTensors;
    const pipe = await fromPretrainedNode("../../checkpoints/mnist-gbm"); // relative to packages/models, where vitest runs
    try {
      const { config } = pipe;
      expect(config.weights).toBe("ema");
      expect(config.step).toBe(STEP);
      expect(config.shape).toEqual([28, 28, 1]);
      // The README's choice: EDM's stochastic sampler, 13 steps, autoguided by the step-2600 checkpoint in guide/ (NFE 50).
      expect(config.sampler).toEqual({ name: "edm-stochastic", steps: 13, schedule: { steps: 13 }, guidance: { checkpoint: "guide", weight: 3, step: 2600 } });
      expect(config.transform).toEqual({ kind: "positive", shift: 1 });
      expect(config.sde.kind).toBe("gbm");
      expect(config.model.output).toBe("denoiser");
      expect(pipe.sde.kind).toBe("gbm");
      expect(pipe.prior.family).toBe("lognormal");
      expect(pipe.denoiser).toBeTypeOf("function");
      const loaded = tf.memory().numTensors;
      const progress: number[] = [];
      const views: { x: number[]; denoised: number[] }[] = [];
      const images = await pipe.sample({
        n: 2,
        seed: 3,
        sampler: "heun",
        nfe: 5,
        onProgress: (p) => {
          progress.push(p.nfe);
          const [x, d] = [p.x(), p.denoised?.()];
          expect(x.shape).toEqual([2, 28, 28, 1]);
          views.push({ x: Array.from(x.dataSync()), denoised: d ? Array.from(d.dataSync()) : [] });
          tf.dispose([x, ...(d ? [d] : [])]);
        },
      });
      expect(images.shape).toEqual([2, 28, 28, 1]);
      expect(images.dtype).toBe("float32");
      const values = await images.data();
      expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(progress).toEqual([1, 2, 3, 4, 5]); // heun: nfe 5 -> 3 steps, 2 * 3 - 1 evaluations
      // The views are images in [0, 1]; the last evaluation's estimate is the result (Heun's last step is Euler into 0).
      expect(views.every((v) => v.x.every((p) => p >= 0 && p <= 1) && v.denoised.length === 2 * 784)).toBe(true);
      expect(views.at(-1)?.denoised).toEqual(Array.from(values));
      images.dispose();
      expect(tf.memory().numTensors).toBe(loaded);
    } finally {
      pipe.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    await expect(pipe.sample({ n: 1 })).rejects.toThrow(/pipeline\.sample: the pipeline was disposed/);
  });

  it("loads the same checkpoint by URL over http (fetching only checkpoint.json and the EMA weights, its own and its guide's) and samples the same pixels", async () => {
    const fromFolder = await fromPretrainedNode(CHECKPOINT);
    const fromUrl = await fromPretrained(`${base}/mnist-gbm/`);
    requested.length = 0;
    const viaNodeEntry = await fromPretrainedNode(`${base}/mnist-gbm`); // no trailing slash: one is added
    expect(requested).toEqual(["/mnist-gbm/checkpoint.json", "/mnist-gbm/ema.safetensors", "/mnist-gbm/guide/checkpoint.json", "/mnist-gbm/guide/ema.safetensors"]);
    try {
      const options = { n: 3, seed: 7, nfe: 3, batch: 2 };
      const a = await pixels(fromFolder, options);
      expect(await pixels(fromUrl, options)).toEqual(a);
      expect(await pixels(viaNodeEntry, options)).toEqual(a);
      expect(fromUrl.config).toEqual(fromFolder.config);
      // The seeds depend on the batch only: the first two images of a batch of 2 are those of n = 2.
      expect(await pixels(fromUrl, { n: 2, seed: 7, nfe: 3, batch: 2 })).toEqual(a.slice(0, 2 * 784));
    } finally {
      fromFolder.dispose();
      fromUrl.dispose();
      viaNodeEntry.dispose();
    }
  });

  it("loads the trained weights on request, and through any CheckpointSource", async () => {
    const dir = copyWith(undefined, ["model.safetensors"]);
    const pipe = await fromPretrained(
      { location: dir, read: async (name) => { try { return readFileSync(join(dir, name)); } catch { return null; } } },
      { weights: "model" },
    );
    expect(pipe.config.weights).toBe("model");
    pipe.dispose();
    await expect(fromPretrained({ location: dir, read: async () => null })).rejects.toThrow(/fromPretrained: no complete checkpoint in .*checkpoint\.json is missing/);
  });

  it("stops on an aborted signal without leaking tensors", async () => {
    const pipe = await fromPretrainedNode(CHECKPOINT);
    try {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      controller.abort(new Error("stop"));
      await expect(pipe.sample({ n: 2, nfe: 3, signal: controller.signal })).rejects.toThrow("stop");
      const late = new AbortController();
      await expect(pipe.sample({ n: 2, nfe: 5, signal: late.signal, onProgress: ({ nfe }) => nfe === 2 && late.abort(new Error("late")) })).rejects.toThrow("late");
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      pipe.dispose();
    }
  });

  it("samples with the checkpoint's recommended sampler and schedule (extra.sampling) when none is named", async () => {
    const before = tf.memory().numTensors;
    const recommended = { sampler: "edm-stochastic", schedule: { steps: 3, sChurn: 5, sNoise: 1.01 } };
    const dir = copyWith((m) => ({ ...m, extra: { ...m.extra, sampling: recommended } }));
    const pipe = await fromPretrainedNode(dir);
    const plain = await fromPretrainedNode(copyWith()); // the same weights, no recommendation
    try {
      expect(pipe.config.sampler).toEqual({ name: "edm-stochastic", steps: 3, schedule: recommended.schedule });
      const implicit = await pixels(pipe, { n: 2, seed: 1 });
      // The same as naming it all on the plain checkpoint; a named nfe keeps the recommended churn.
      expect(implicit).toEqual(await pixels(plain, { n: 2, seed: 1, sampler: "edm-stochastic", steps: 3, schedule: { sChurn: 5, sNoise: 1.01 } }));
      expect(await pixels(pipe, { n: 2, seed: 1, nfe: 5 })).toEqual(implicit);
      expect(await pixels(pipe, { n: 2, seed: 1, nfe: 5, schedule: { sChurn: 0 } })).toEqual(await pixels(plain, { n: 2, seed: 1, sampler: "heun", steps: 3 }));
      // Another sampler starts from its own defaults, not the recommended schedule.
      expect(await pixels(pipe, { n: 2, seed: 1, sampler: "heun", nfe: 5 })).toEqual(await pixels(plain, { n: 2, seed: 1, sampler: "heun", steps: 3 }));
    } finally {
      pipe.dispose();
      plain.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const bad = (sampling: unknown) => fromPretrainedNode(copyWith((m) => ({ ...m, extra: { ...m.extra, sampling } })));
    await expect(bad({ sampler: "heun", schedule: { steps: 5, sChurn: 1 } })).rejects.toThrow(/fromPretrained: .*extra\.sampling\.schedule\.sChurn: the heun sampler does not read it/);
    await expect(bad({ sampler: "euler-maruyama", schedule: { steps: 5 } })).rejects.toThrow(/fromPretrained: .*extra\.sampling recommends a sampler of the wrong family/);
    await expect(bad({ sampler: "heun", schedule: { steps: 0 } })).rejects.toThrow(/extra\.sampling\.schedule\.steps must be an integer >= 1, got 0/);
    await expect(bad({ sampler: "ddim", schedule: { steps: 5 } })).rejects.toThrow(/extra\.sampling\.sampler must be one of/);
  });

  it("loads the recommended autoguidance from the guide folder inside the checkpoint; a guide equal to the model changes nothing", async () => {
    const before = tf.memory().numTensors;
    const sampling = { sampler: "heun", schedule: { steps: 3 }, guidance: { checkpoint: "guide", weight: 2 } };
    const dir = copyWith((m) => ({ ...m, extra: { ...m.extra, sampling } }));
    // The guide: the same weights (so D_guide + w (D - D_guide) = D exactly), in <dir>/guide.
    mkdirSync(join(dir, "guide"));
    copyFileSync(join(CHECKPOINT, "ema.safetensors"), join(dir, "guide", "ema.safetensors"));
    writeFileSync(join(dir, "guide", "checkpoint.json"), manifestText);
    const pipe = await fromPretrainedNode(dir);
    const plain = await fromPretrainedNode(copyWith()); // the same weights, no recommendation
    try {
      expect(pipe.config.sampler).toEqual({ name: "heun", steps: 3, schedule: { steps: 3 }, guidance: { checkpoint: "guide", weight: 2, step: STEP } });
      const reference = await pixels(plain, { n: 2, seed: 4, sampler: "heun", steps: 3 });
      expect(await pixels(pipe, { n: 2, seed: 4 })).toEqual(reference);
      expect(await pixels(pipe, { n: 2, seed: 4, guidance: 5 })).toEqual(reference);
      expect(await pixels(pipe, { n: 2, seed: 4, guidance: false })).toEqual(reference);
      await expect(pipe.sample({ n: 1, sampler: "euler", guidance: 2 })).rejects.toThrow(/pipeline\.sample: guidance sets the weight .* applies to heun only/);
      await expect(plain.sample({ n: 1, guidance: 2 })).rejects.toThrow(/which this checkpoint does not have/);
      await expect(pipe.sample({ n: 1, guidance: -1 as number })).rejects.toThrow(/guidance must be false or a finite number >= 0, got -1/);
      // plan() says what sample() runs: a guided heun evaluation runs both networks, and an NFE budget counts both.
      expect(pipe.plan()).toEqual({ sampler: "heun", steps: 3, schedule: { steps: 3 }, nfe: 10, guidance: 2 });
      expect(pipe.plan({ nfe: 35 })).toMatchObject({ steps: 9, nfe: 34, guidance: 2 });
      expect(pipe.plan({ nfe: 35, guidance: false })).toMatchObject({ steps: 18, nfe: 35, guidance: undefined });
      expect(pipe.plan({ sampler: "euler", nfe: 20 })).toMatchObject({ sampler: "euler", steps: 20, nfe: 20, guidance: undefined });
      expect(plain.plan({ sampler: "heun", nfe: 35 })).toMatchObject({ steps: 18, nfe: 35, guidance: undefined });
      expect(() => pipe.plan({ nfe: 1 })).toThrow("pipeline.plan: a budget of NFE 1 is too small for heun with 2 networks per evaluation (autoguidance): one step takes 2.");
      await expect(pipe.sample({ n: 1, nfe: 1 })).rejects.toThrow(/^pipeline\.sample: a budget of NFE 1 is too small for heun/);
    } finally {
      pipe.dispose();
      plain.dispose();
    }
    // A guide that differs (the trained weights, not their EMA) changes the samples, unless guidance is false.
    const rawGuide = copyWith((m) => ({ ...m, extra: { ...m.extra, sampling } }));
    mkdirSync(join(rawGuide, "guide"));
    copyFileSync(join(CHECKPOINT, "model.safetensors"), join(rawGuide, "guide", "model.safetensors"));
    const noEma = JSON.parse(manifestText) as { files: Record<string, unknown> };
    delete noEma.files.ema;
    writeFileSync(join(rawGuide, "guide", "checkpoint.json"), JSON.stringify(noEma));
    const guided = await fromPretrainedNode(rawGuide);
    try {
      const a = await pixels(guided, { n: 2, seed: 4 });
      const reference = await pixels(guided, { n: 2, seed: 4, guidance: false });
      expect(Math.max(...a.map((v, i) => Math.abs(v - (reference[i] as number))))).toBeGreaterThan(1e-3);
      expect(await pixels(guided, { n: 2, seed: 4, guidance: 1 })).not.toEqual(a);
    } finally {
      guided.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    // A guide that is not there, or of another process, is named.
    const missing = copyWith((m) => ({ ...m, extra: { ...m.extra, sampling } }));
    await expect(fromPretrainedNode(missing)).rejects.toThrow(/fromPretrained: .*guide.*checkpoint\.json/);
    const other = JSON.parse(manifestText) as { extra: { sde: { prior: unknown } } };
    other.extra.sde = { ...other.extra.sde, prior: { ...(other.extra.sde.prior as object), loc: [0.5] } };
    mkdirSync(join(missing, "guide"));
    copyFileSync(join(CHECKPOINT, "ema.safetensors"), join(missing, "guide", "ema.safetensors"));
    writeFileSync(join(missing, "guide", "checkpoint.json"), JSON.stringify(other));
    await expect(fromPretrainedNode(missing)).rejects.toThrow(/fromPretrained: .*guide.*checkpoint\.json: the guide has another process \(extra\.sde\) than .*; autoguidance needs a weaker model/);
    // The shape is checked before any weights are read.
    const wide = JSON.parse(manifestText) as { config: { imageSize: number[] } };
    wide.config.imageSize = wide.config.imageSize.map((d) => d * 2);
    writeFileSync(join(missing, "guide", "checkpoint.json"), JSON.stringify(wide));
    await expect(fromPretrainedNode(missing)).rejects.toThrow(/the guide has another image shape than/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, extra: { ...m.extra, sampling: { ...sampling, guidance: { checkpoint: "../mnist-vp", weight: 2 } } } })))).rejects.toThrow(
      /extra\.sampling\.guidance\.checkpoint must be a relative folder inside the checkpoint's/,
    );
  });

  it("checks the sampling options, with errors that name them", async () => {
    const pipe = await fromPretrainedNode(CHECKPOINT);
    try {
      await expect(pipe.sample({ n: 0 })).rejects.toThrow(/pipeline\.sample: n must be an integer >= 1, got 0/);
      await expect(pipe.sample({ n: 1, seed: 0.5 })).rejects.toThrow(/seed must be an integer/);
      await expect(pipe.sample({ n: 1, steps: 3, nfe: 5 })).rejects.toThrow(/give steps or nfe, not both/);
      await expect(pipe.sample({ n: 1, sampler: "ddim" as never })).rejects.toThrow(/sampler must be one of dale-langevin, .*dpmpp-2m-sde, got "ddim"/);
      await expect(pipe.sample({ n: 1, sampler: "euler-maruyama" })).rejects.toThrow(/checkSampler: the euler-maruyama sampler is for additive/);
      await expect(pipe.sample({ n: 1, sampler: "predictor-corrector" as never, nfe: 1 })).rejects.toThrow(/additive/);
    } finally {
      pipe.dispose();
    }
  });

  it("refuses bad sources and checkpoints with errors that start with fromPretrained:", async () => {
    await expect(fromPretrained("checkpoints/mnist-gbm")).rejects.toThrow(/fromPretrained: "checkpoints\/mnist-gbm" is not an http\(s\) URL.*fromPretrained of "@dale\/models\/node"/);
    await expect(fromPretrained("")).rejects.toThrow(/fromPretrained: source must be/);
    await expect(fromPretrained(null as never)).rejects.toThrow(/fromPretrained: source must be/);
    await expect(fromPretrainedNode(join(tmpdir(), "no-such-dale-checkpoint"))).rejects.toThrow(/fromPretrained: no complete checkpoint in .*no-such-dale-checkpoint: checkpoint\.json is missing/);
    await expect(fromPretrained(`${base}/elsewhere/`)).rejects.toThrow(/fromPretrained: no complete checkpoint in http:\/\/127\.0\.0\.1:\d+\/elsewhere\/: checkpoint\.json is missing/);
    await expect(fromPretrained("http://127.0.0.1:1/x/")).rejects.toThrow(/fromPretrained: cannot read http:\/\/127\.0\.0\.1:1\/x\/checkpoint\.json/);
    await expect(fromPretrainedNode(CHECKPOINT, { weights: "best" as never })).rejects.toThrow(/options\.weights must be "ema" or "model"/);

    // Bytes that do not match the manifest.
    const corrupt = copyWith();
    const ema = readFileSync(join(corrupt, "ema.safetensors"));
    ema[ema.length - 1] = (ema[ema.length - 1] as number) ^ 1;
    writeFileSync(join(corrupt, "ema.safetensors"), ema);
    await expect(fromPretrainedNode(corrupt)).rejects.toThrow(/fromPretrained: .*ema\.safetensors is corrupt: sha256 mismatch, expected [0-9a-f]{64}, got [0-9a-f]{64}/);
    const truncated = copyWith();
    writeFileSync(join(truncated, "ema.safetensors"), ema.subarray(0, 100));
    await expect(fromPretrainedNode(truncated)).rejects.toThrow(/fromPretrained: .*ema\.safetensors is truncated: expected 2240970 bytes, found 100/);
    await expect(fromPretrainedNode(copyWith(undefined, []))).rejects.toThrow(/fromPretrained: .*ema\.safetensors is missing, but checkpoint\.json lists it/);

    // Manifests that are not a Dale checkpoint, or do not say how to sample.
    const dirWith = (text: string) => {
      const dir = copyWith();
      writeFileSync(join(dir, "checkpoint.json"), text);
      return dir;
    };
    await expect(fromPretrainedNode(dirWith("{ not json"))).rejects.toThrow(/fromPretrained: .*checkpoint\.json is not valid JSON/);
    await expect(fromPretrainedNode(dirWith("[1, 2]"))).rejects.toThrow(/fromPretrained: .*checkpoint\.json must hold a JSON object, got an array/);
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, version: 2 })))).rejects.toThrow(/fromPretrained: .*checkpoint\.json is not a version-1 Dale checkpoint \(format dale-checkpoint, version 2\)/);
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, config: null })))).rejects.toThrow(/fromPretrained: .*checkpoint\.json has no model config/);
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, config: { kind: "function", output: "stein", name: "net" } })))).rejects.toThrow(
      /fromPretrained: .*checkpoint\.json holds a function model \(fromFunction\), whose network is JavaScript code, not data; fromPretrained never loads or runs code/,
    );
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, extra: undefined })))).rejects.toThrow(/fromPretrained: .*does not say how to sample: it needs extra\.sde .* and extra\.transform/);
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, extra: { ...m.extra, sde: { kind: "gbm" } } })))).rejects.toThrow(/fromPretrained: .*extra\.sde is not a process Dale can rebuild/);
    await expect(fromPretrainedNode(copyWith((m) => ({ ...m, extra: { ...m.extra, transform: { kind: "positive" } } })))).rejects.toThrow(
      /fromPretrained: .*extra\.transform must be \{ kind: "positive", shift: <finite number> \} or \{ kind: "symmetric" \}/,
    );
    const noEma = copyWith((m) => ({ ...m, files: { model: m.files.model } }), ["model.safetensors"]);
    await expect(fromPretrainedNode(noEma, { weights: "ema" })).rejects.toThrow(/fromPretrained: .*has no EMA weights \(ema\.safetensors\); pass weights: "model"/);
    const fallback = await fromPretrainedNode(noEma);
    expect(fallback.config.weights).toBe("model");
    fallback.dispose();
  });
});

describe("checkpointFromFiles", () => {
  it("restores a checkpoint from bytes in memory and names a missing file", async () => {
    const files = {
      "model.safetensors": readFileSync(join(CHECKPOINT, "model.safetensors")),
      "ema.safetensors": readFileSync(join(CHECKPOINT, "ema.safetensors")),
    };
    const before = tf.memory().numTensors;
    const ckpt = await checkpointFromFiles({ manifest: manifestText, files });
    expect(ckpt.step).toBe(STEP);
    expect(ckpt.ema).toBeDefined();
    expect(ckpt.model.config.kind).toBe("unet");
    ckpt.ema?.dispose();
    ckpt.model.variables.forEach((v) => v.dispose());
    expect(tf.memory().numTensors).toBe(before);
    await expect(checkpointFromFiles({ manifest: new TextEncoder().encode(manifestText), files: { "model.safetensors": files["model.safetensors"] } })).rejects.toThrow(
      /checkpointFromFiles: ema\.safetensors is missing, but checkpoint\.json lists it/,
    );
    await expect(checkpointFromFiles({ manifest: { format: "other" }, files })).rejects.toThrow(/checkpointFromFiles: checkpoint\.json is not a version-1 Dale checkpoint/);
  });
});

describe("toPixels", () => {
  it("inverts the pixel transforms, clipped to [0, 1], keeping NaN", () => {
    tf.engine().startScope();
    const x = tf.tensor([Number.NaN, 0.5, 1.25, 3]);
    expect(Array.from(toPixels(x, { kind: "positive", shift: 1 }).dataSync())).toEqual([Number.NaN, 0, 0.25, 1]);
    expect(Array.from(toPixels(tf.tensor([-3, 0, 0.5]), { kind: "symmetric" }).dataSync())).toEqual([0, 0.5, 0.75]);
    expect(() => toPixels(x, { kind: "positive" } as never)).toThrow(/toPixels: transform must be \{ kind: "positive", shift: <finite number> \}/);
    tf.engine().endScope();
  });
});
