import type { ModelConfig, UNetConfig } from "../types";

/** Ready-made configs (the output defaults to "noise"). */
export const unetPresets = {
  /** 28x28x1, 28 -> 14 -> 7, 1,112,801 parameters. */
  mnistSmall: { imageSize: [28, 28], channels: 1, ch: 32, chMult: [1, 2, 2], numResBlocks: 1, attnResolutions: [7], dropout: 0, output: "noise" },
  /** 28x28x1, 28 -> 14 -> 7, 6,469,889 parameters. */
  mnist: { imageSize: [28, 28], channels: 1, ch: 64, chMult: [1, 2, 2], numResBlocks: 2, attnResolutions: [7], dropout: 0.1, output: "noise" },
  /**
   * 32x32x3, 32 -> 16 -> 8 -> 4, 1,525,411 parameters: mnistSmall's widths with a fourth level. Sized for a
   * checkpoint that ships (3.1 MB in F16) and samples on a CPU: `dale-sample --n 100` (100 steps) took 332 to 338 s
   * on one wasm thread (BENCHMARKS.md, checkpoints/cifar10-gbm-cpu).
   */
  cifar10Small: { imageSize: [32, 32], channels: 3, ch: 32, chMult: [1, 2, 2, 2], numResBlocks: 1, attnResolutions: [8], dropout: 0, output: "noise" },
  /** 32x32x3, 32 -> 16 -> 8 -> 4, DDPM's CIFAR-10 network (35,746,307 parameters; DDPM reports 35.7M). */
  cifar10: { imageSize: [32, 32], channels: 3, ch: 128, chMult: [1, 2, 2, 2], numResBlocks: 2, attnResolutions: [16], dropout: 0.1, output: "noise" },
  /** For tests: 28x28x1, ch 8, two levels, no attention outside the middle block. */
  tiny: { imageSize: [28, 28], channels: 1, ch: 8, chMult: [1, 2], numResBlocks: 1, attnResolutions: [], dropout: 0, output: "noise" },
} as const satisfies Record<string, UNetConfig>;

/** Checks a config and fills its defaults; errors name the field and what was expected. */
export function resolveUNetConfig(config: UNetConfig): Extract<ModelConfig, { kind: "unet" }> {
  const fn = "createUNet";
  const posInt = (v: unknown, name: string) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${String(v)}.`);
  };
  if (!Array.isArray(config.imageSize) || config.imageSize.length !== 2) {
    throw new Error(`${fn}: imageSize must be [height, width], got ${JSON.stringify(config.imageSize)}.`);
  }
  const [h, w] = config.imageSize as [number, number];
  posInt(h, "imageSize[0]");
  posInt(w, "imageSize[1]");
  posInt(config.channels, "channels");
  posInt(config.ch, "ch");
  posInt(config.numResBlocks, "numResBlocks");
  if (!Array.isArray(config.chMult) || config.chMult.length < 1) throw new Error(`${fn}: chMult must be a non-empty array of positive integers.`);
  config.chMult.forEach((m, i) => posInt(m, `chMult[${i}]`));
  const levels = config.chMult.length;
  const factor = 2 ** (levels - 1);
  if (h % factor !== 0 || w % factor !== 0) {
    throw new Error(
      `${fn}: imageSize [${h}, ${w}] must divide by 2^(levels - 1) = ${factor} for chMult of ${levels} levels ` +
        `(each level but the last halves the resolution); use fewer levels or pad the images.`,
    );
  }
  const sizes = config.chMult.map((_, i) => h / 2 ** i);
  if (!Array.isArray(config.attnResolutions)) throw new Error(`${fn}: attnResolutions must be an array of level heights (e.g. [] or [7]), got ${JSON.stringify(config.attnResolutions) ?? "undefined"}.`);
  for (const r of config.attnResolutions) {
    if (!sizes.includes(r)) throw new Error(`${fn}: attnResolutions entry ${r} is not a level's height; the levels have heights [${sizes}].`);
  }
  const dropout = config.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`${fn}: dropout must be in [0, 1), got ${dropout}.`);
  const output = config.output ?? "noise";
  if (output !== "stein" && output !== "hyvarinen" && output !== "noise" && output !== "denoiser") {
    throw new Error(`${fn}: output must be "stein", "hyvarinen", "noise" or "denoiser", got ${String(output)}.`);
  }
  const timeScale = config.timeScale ?? 1000;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`${fn}: timeScale must be positive, got ${timeScale}.`);
  const input = config.input ?? "x";
  if (input !== "x" && input !== "log") throw new Error(`${fn}: input must be "x" or "log", got ${String(input)}.`);
  const precondition = config.precondition ?? null;
  if (output === "denoiser") {
    if (precondition === null || typeof precondition !== "object") {
      throw new Error(`${fn}: output "denoiser" needs precondition { sigmaData, mean } (the std and mean of the training data's y_0).`);
    }
    if (!(precondition.sigmaData > 0) || !Number.isFinite(precondition.sigmaData)) throw new Error(`${fn}: precondition.sigmaData must be a positive number, got ${String(precondition.sigmaData)}.`);
    if (!Number.isFinite(precondition.mean)) throw new Error(`${fn}: precondition.mean must be a finite number, got ${String(precondition.mean)}.`);
    if (input !== "x") throw new Error(`${fn}: a preconditioned U-Net sees c_in (y - mean); leave input at "x" (y is already log x for GBM).`);
  } else if (precondition !== null) {
    throw new Error(`${fn}: precondition applies to output "denoiser" only, got output "${output}".`);
  }
  if (config.ch % 2 !== 0) throw new Error(`${fn}: ch must be even (the sinusoidal embedding has ch / 2 frequencies), got ${config.ch}.`);
  return {
    kind: "unet",
    imageSize: [h, w],
    channels: config.channels,
    ch: config.ch,
    chMult: [...config.chMult],
    numResBlocks: config.numResBlocks,
    attnResolutions: [...config.attnResolutions],
    dropout,
    output,
    timeScale,
    input,
    precondition: precondition === null ? null : { sigmaData: precondition.sigmaData, mean: precondition.mean },
  };
}
