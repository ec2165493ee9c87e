import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import type { TorchTensor } from "../torch";
import { FidInceptionV3, INCEPTION_CONVS, foldBatchNorm, inceptionStateDictShapes, resizeAxis } from "./network";

/** PyTorch's bilinear rule (align_corners=False), in float64, written directly in 2-D. */
function interpolateReference(x: Float32Array, [n, h, w, c]: number[], oh: number, ow: number): Float64Array {
  const out = new Float64Array(n! * oh * ow * c!);
  const coord = (d: number, size: number, outSize: number): [number, number, number] => {
    const src = Math.max(0, ((d + 0.5) * size) / outSize - 0.5);
    const i0 = Math.floor(src);
    return [i0, i0 < size - 1 ? i0 + 1 : i0, src - i0];
  };
  for (let b = 0; b < n!; b++) {
    for (let y = 0; y < oh; y++) {
      const [y0, y1, ly] = coord(y, h!, oh);
      for (let xx = 0; xx < ow; xx++) {
        const [x0, x1, lx] = coord(xx, w!, ow);
        for (let k = 0; k < c!; k++) {
          const at = (r: number, s: number): number => x[((b * h! + r) * w! + s) * c! + k]!;
          out[((b * oh + y) * ow + xx) * c! + k] = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        }
      }
    }
  }
  return out;
}

describe("FID Inception building blocks on the running backend", () => {
  it("avgPool(3, 1, 'same') leaves padded zeros out of the mean (PyTorch count_include_pad=False)", () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const got = tf.avgPool(x, 3, 1, "same");
    // Corner: mean of 4 real pixels; edge: of 6; centre: of 9.
    expect([...got.dataSync()]).toEqual([3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7].map((v) => expect.closeTo(v, 6)));
    // maxPool(3, 1, 'same') ignores padding too (PyTorch pads max_pool2d with -inf).
    const neg = tf.neg(x);
    const max = tf.maxPool(neg, 3, 1, "same");
    expect([...max.dataSync()]).toEqual([-1, -1, -2, -1, -1, -2, -4, -4, -5]);
    tf.dispose([x, got, neg, max]);
  });

  it("resizeAxis twice is F.interpolate(bilinear, align_corners=False), up and down, in float32 precision", () => {
    for (const [h, w, oh, ow] of [
      [5, 7, 13, 4],
      [28, 28, 299, 299],
      [320, 304, 299, 299],
      [1, 3, 4, 1],
    ] as const) {
      const data = Float32Array.from({ length: 2 * h * w * 3 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
      const x = tf.tensor4d(data, [2, h, w, 3]);
      const y = tf.tidy(() => resizeAxis(resizeAxis(x, 1, oh), 2, ow));
      expect(y.shape).toEqual([2, oh, ow, 3]);
      const want = interpolateReference(data, [2, h, w, 3], oh, ow);
      const got = y.dataSync();
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err, `${h}x${w} -> ${oh}x${ow}`).toBeLessThan(3e-7);
      tf.dispose([x, y]);
    }
  });

  it("foldBatchNorm: conv + eval BatchNorm(eps=0.001) equals the folded conv", () => {
    const spec = { name: "t", inChannels: 2, outChannels: 3, kernel: [1, 3] as [number, number], stride: 1 as const, pad: "same" as const };
    const weight = Float32Array.from({ length: 3 * 2 * 1 * 3 }, (_, i) => Math.cos(i));
    const [gamma, beta, mean, variance] = [
      [0.5, 1.5, 2],
      [0.1, -0.2, 0.3],
      [0.3, -1, 2],
      [0.25, 4, 0.01],
    ].map((v) => Float32Array.from(v)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const { filter, bias } = foldBatchNorm(spec, weight, gamma, beta, mean, variance);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 4 * 5 * 2 }, (_, i) => Math.sin(i)), [2, 4, 5, 2]);
    const [direct, folded] = tf.tidy(() => {
      // PyTorch layout [out, in, kh, kw] -> tfjs [kh, kw, in, out].
      const w = tf.transpose(tf.tensor4d(weight, [3, 2, 1, 3]), [2, 3, 1, 0]) as tf.Tensor4D;
      const conv = tf.conv2d(x, w, 1, "same");
      const bn = tf.add(tf.mul(tf.div(tf.sub(conv, tf.tensor1d(mean)), tf.sqrt(tf.add(tf.tensor1d(variance), 0.001))), tf.tensor1d(gamma)), tf.tensor1d(beta));
      const f = tf.add(tf.conv2d(x, tf.tensor4d(filter, [1, 3, 2, 3]), 1, "same"), tf.tensor1d(bias));
      return [bn.dataSync(), f.dataSync()];
    });
    for (let i = 0; i < direct!.length; i++) expect(folded![i]).toBeCloseTo(direct![i]!, 5);
    x.dispose();
  });
});

describe("FidInceptionV3.fromStateDict", () => {
  const zeros = (): Map<string, TorchTensor> => {
    const sd = new Map<string, TorchTensor>();
    for (const [key, shape] of inceptionStateDictShapes()) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (key.endsWith("running_var") || key.endsWith("bn.weight")) data.fill(1);
      sd.set(key, { dtype: "float32", shape, data });
    }
    return sd;
  };

  it("has pytorch-fid's 94 convolutions and 23.8M parameters", () => {
    expect(INCEPTION_CONVS.length).toBe(94);
    let params = 0;
    for (const shape of inceptionStateDictShapes().values()) params += shape.reduce((a, b) => a * b, 1);
    // As torch counts the floating-point tensors of fid_inception_v3().state_dict(): 21,751,136 convolution weights,
    // 4 x 17,216 BatchNorm values and the 2048 x 1008 + 1008 of fc.
    expect(params).toBe(23_885_392);
  });

  it("names missing, unexpected and misshapen keys, and frees what it built on failure", () => {
    const before = tf.memory().numTensors;
    const missing = zeros();
    missing.delete("Mixed_6c.branch7x7dbl_3.bn.running_var");
    missing.set("AuxLogits.fc.weight", { dtype: "float32", shape: [1], data: new Float32Array(1) });
    expect(() => FidInceptionV3.fromStateDict(missing)).toThrow(/Missing: Mixed_6c\.branch7x7dbl_3\.bn\.running_var\. Unexpected: AuxLogits\.fc\.weight/);
    const misshapen = zeros();
    misshapen.set("Mixed_6b.branch7x7_2.conv.weight", { dtype: "float32", shape: [128, 128, 7, 1], data: new Float32Array(128 * 128 * 7) });
    expect(() => FidInceptionV3.fromStateDict(misshapen)).toThrow(/Mixed_6b\.branch7x7_2\.conv\.weight has shape \[128, 128, 7, 1\], expected \[128, 128, 1, 7\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("validates images, accepts num_batches_tracked, and leaks nothing", () => {
    const before = tf.memory().numTensors;
    const sd = zeros();
    sd.set("fc.weight", { dtype: "float32", shape: [1008, 2048], data: new Float32Array(1008 * 2048) });
    sd.set("Conv2d_1a_3x3.bn.num_batches_tracked", { dtype: "int64", shape: [], data: new BigInt64Array(1) });
    const net = FidInceptionV3.fromStateDict(sd);
    const bad = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
    expect(() => net.features(bad)).toThrow(/FidInceptionV3\.features: images must have 1 or 3 channels, got shape \[1, 8, 8, 2\]/);
    const flat = tf.zeros([8, 8, 3]);
    expect(() => net.features(flat as unknown as tf.Tensor4D)).toThrow(/must be \[N, H, W, C\], got shape \[8, 8, 3\]/);
    const ints = tf.zeros([1, 8, 8, 3], "int32") as tf.Tensor4D;
    expect(() => net.probabilities(ints)).toThrow(/must be float32 in \[0, 1\], got int32/);
    // Zero weights: features are 0 and the 1008 probabilities uniform.
    const x = tf.ones([1, 30, 20, 1]) as tf.Tensor4D;
    const p = net.probabilities(x);
    expect(p.shape).toEqual([1, 1008]);
    expect(p.dataSync()[7]).toBeCloseTo(1 / 1008, 8);
    tf.dispose([bad, flat, ints, x, p]);
    net.dispose();
    expect(() => net.features(x)).toThrow(/disposed/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
