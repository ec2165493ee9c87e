// One contract, every SDE: perturb draws from marginal, Euler-Maruyama on drift/diffusion reaches the marginal,
// the prior is the marginal at T for data at the prior's centre, JSON round-trips, and nothing leaks.
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  gbm,
  geometricSchedule,
  linearSchedule,
  noiseLevel,
  perSample,
  randomNormal,
  sdeFromJSON,
  timeAtNoiseLevel,
  timeTensor,
  veSDE,
  vpSDE,
  type AnySDE,
  type GBM,
  type SDE,
  type VESDE,
  type VPSDE,
} from "./index";

const cases: [string, SDE, number][] = [
  ["gbm (reference)", gbm(), 1.5],
  ["gbm (linear sigma, mu 0.1)", gbm({ mu: 0.1, sigma: linearSchedule(0.3, 1.2) }), 1.5],
  ["gbm (geometric sigma 0.01 to 2: log space is a VE-SDE)", gbm({ sigma: geometricSchedule(0.01, 2) }), 1.5],
  ["vp", vpSDE(), 0.7],
  ["ve", veSDE({ sigmaMax: 5 }), 0.7],
];

/** Elementwise mean and variance of the marginal, in closed form. */
function marginalMoments(sde: SDE, x0: number, t: number): { mean: number; variance: number } {
  return tf.tidy(() => {
    const m = sde.marginal(tf.tensor([x0]), t);
    if (m.family === "lognormal") {
      const loc = m.loc.dataSync()[0] as number;
      const s2 = (m.scale.dataSync()[0] as number) ** 2;
      return { mean: Math.exp(loc + s2 / 2), variance: Math.expm1(s2) * Math.exp(2 * loc + s2) };
    }
    return { mean: m.mean.dataSync()[0] as number, variance: (m.std.dataSync()[0] as number) ** 2 };
  });
}

describe.each(cases)("SDE contract: %s", (_, sde, start) => {
  const n = 40_000;

  it("perturb draws from marginal (mean within 4 standard errors)", () => {
    const t = 0.6;
    const x0 = tf.fill([n, 1], start);
    const xt = sde.perturb(x0, randomNormal([n, 1], 1), t);
    const { mean, variance } = marginalMoments(sde, start, t);
    const sampleMean = tf.mean(xt).dataSync()[0] as number;
    expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(variance / n));
    tf.dispose([x0, xt]);
  });

  it("Euler-Maruyama on drift and diffusion reaches the marginal at t = 0.6", () => {
    const t = 0.6;
    const steps = 300;
    const dt = t / steps;
    let x = tf.fill([n], start);
    for (let k = 0; k < steps; k++) {
      const next = tf.tidy(() =>
        tf.add(
          tf.add(x, tf.mul(sde.drift(x, k * dt), dt)),
          tf.mul(sde.diffusion(x, k * dt), tf.mul(Math.sqrt(dt), randomNormal([n], 5, k))),
        ),
      );
      x.dispose();
      x = next;
    }
    const { mean, variance } = marginalMoments(sde, start, t);
    const m = tf.moments(x);
    const sampleMean = m.mean.dataSync()[0] as number;
    const sampleVar = m.variance.dataSync()[0] as number;
    // Sampling error plus Euler's O(dt) bias.
    expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(variance / n) + 0.01 * Math.abs(mean));
    expect(Math.abs(sampleVar / variance - 1)).toBeLessThan(0.06);
    tf.dispose([x, m.mean, m.variance]);
  });

  it("marginal and perturb take t in [0, T] only, as numbers and inside time tensors, and leak nothing", () => {
    const x = tf.fill([3, 2], start);
    const zeros = tf.zerosLike(x);
    const name = sde.kind === "gbm" ? "gbm" : `${sde.kind}SDE`;
    const inside = tf.tensor1d([0, 0.5 * sde.T, sde.T]);
    const before = tf.memory().numTensors;
    const m = sde.marginal(x, inside);
    tf.dispose([...(m.family === "lognormal" ? [m.loc, m.scale] : [m.mean, m.std]), sde.perturb(x, zeros, 0)]);
    for (const [t, got] of [
      [-0.5, "-0.5"],
      [2 * sde.T, `${2 * sde.T}`],
      [Number.NaN, "NaN"],
    ] as const) {
      const message = new RegExp(`^${name}\\.marginal: t must be in \\[0, T = ${sde.T}\\], got ${got}\\.$`);
      expect(() => sde.marginal(x, t)).toThrow(message);
      const times = tf.tensor1d([0.5, 0.1, t]);
      expect(() => sde.perturb(x, zeros, times)).toThrow(new RegExp(`^${name}\\.perturb: t must be in \\[0, T = ${sde.T}\\], got ${got} at index 2\\.$`));
      times.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, zeros, inside]);
  });

  it("round-trips through JSON and leaks no tensors", () => {
    expect(sdeFromJSON(JSON.parse(JSON.stringify(sde.toJSON()))).toJSON()).toEqual(sde.toJSON());
    const x = tf.fill([3, 2], start);
    const times = tf.tensor1d([0.1, 0.2, 0.3]);
    const zeros = tf.zerosLike(x);
    const before = tf.memory().numTensors;
    const m = sde.marginal(x, 0.3);
    tf.dispose([
      sde.drift(x, 0.3),
      sde.diffusion(x, times),
      sde.diffusionDivergence(x, 0.3),
      sde.perturb(x, zeros, 0.3),
      sde.prior.sample([3, 2], 0),
      sde.prior.logProb(x),
      ...(m.family === "lognormal" ? [m.loc, m.scale] : [m.mean, m.std]),
    ]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, times, zeros]);
  });
});

// noiseLevel and marginalStd against their closed forms: sigma(t) of y_t = y_0 + sigma(t) Z, and the std of the
// transition's Gaussian (log X_t for GBM, X_t for VP/VE).
const B = (t: number) => 0.1 * t + ((20 - 0.1) * t * t) / 2; // the default VP-SDE's int_0^t beta
const closedForms: [string, AnySDE, { noiseLevel: (t: number) => number; marginalStd: (t: number) => number }][] = [
  [
    "gbm (reference): v = 0.64 t",
    gbm(),
    { noiseLevel: (t) => 0.8 * Math.sqrt(t), marginalStd: (t) => 0.8 * Math.sqrt(t) },
  ],
  [
    "gbm (linear sigma 0.3 to 1.2): v = ((0.3 + 0.9 t)^3 - 0.3^3) / 2.7",
    gbm({ sigma: linearSchedule(0.3, 1.2) }),
    {
      noiseLevel: (t) => Math.sqrt(((0.3 + 0.9 * t) ** 3 - 0.3 ** 3) / 2.7),
      marginalStd: (t) => Math.sqrt(((0.3 + 0.9 * t) ** 3 - 0.3 ** 3) / 2.7),
    },
  ],
  [
    "gbm (geometric sigma 0.01 to 2): v = 0.01^2 (200^(2t) - 1)",
    gbm({ sigma: geometricSchedule(0.01, 2) }),
    {
      noiseLevel: (t) => 0.01 * Math.sqrt(200 ** (2 * t) - 1),
      marginalStd: (t) => 0.01 * Math.sqrt(200 ** (2 * t) - 1),
    },
  ],
  [
    "vp: sigma = sqrt(e^B - 1), b = sqrt(1 - e^-B)",
    vpSDE(),
    { noiseLevel: (t) => Math.sqrt(Math.exp(B(t)) - 1), marginalStd: (t) => Math.sqrt(1 - Math.exp(-B(t))) },
  ],
  [
    "ve: sigma = b = 0.01 500^t",
    veSDE({ sigmaMax: 5 }),
    { noiseLevel: (t) => 0.01 * 500 ** t, marginalStd: (t) => 0.01 * 500 ** t },
  ],
];

describe.each(closedForms)("noiseLevel and marginalStd: %s", (_, sde, exact) => {
  const times = [0.05, 0.3, 0.6, 1];

  it("match the closed forms, and the free noiseLevel(sde, t) is the method", () => {
    for (const t of times) {
      expect(sde.noiseLevel(t) / exact.noiseLevel(t)).toBeCloseTo(1, 12);
      expect(sde.marginalStd(t) / exact.marginalStd(t)).toBeCloseTo(1, 12);
      expect(noiseLevel(sde, t)).toBe(sde.noiseLevel(t));
    }
    expect(sde.noiseLevel(0)).toBe(sde.kind === "ve" ? 0.01 : 0);
  });

  it("marginalStd is the std (or log-space scale) that marginal returns", () => {
    const t = tf.tensor1d(times);
    const x0 = tf.ones([times.length, 2]);
    const m = sde.marginal(x0, t);
    const std = m.family === "lognormal" ? m.scale : m.std;
    const got = std.arraySync() as number[][];
    times.forEach((ti, i) => expect(got[i]?.[1]).toBeCloseTo(sde.marginalStd(ti), 5));
    tf.dispose([t, x0, std, m.family === "lognormal" ? m.loc : m.mean]);
  });

  it("noiseLevel increases, and timeAtNoiseLevel inverts it", () => {
    for (const t of times) expect(timeAtNoiseLevel(sde, sde.noiseLevel(t))).toBeCloseTo(t, 9);
    for (let i = 1; i < times.length; i++) {
      expect(sde.noiseLevel(times[i] as number)).toBeGreaterThan(sde.noiseLevel(times[i - 1] as number));
    }
  });
});

describe("sdeFromJSON returns the union AnySDE", () => {
  it("round-trips every kind with its kind and its own members, no cast needed", () => {
    for (const [, sde] of closedForms) {
      const back = sdeFromJSON(JSON.parse(JSON.stringify(sde.toJSON())));
      expect(back.kind).toBe(sde.kind);
      expect(back.toJSON()).toEqual(sde.toJSON());
      expect(back.noiseLevel(0.4)).toBe(sde.noiseLevel(0.4));
      expect(back.marginalStd(0.4)).toBe(sde.marginalStd(0.4));
      switch (back.kind) {
        case "gbm":
          expectTypeOf(back).toEqualTypeOf<GBM>();
          expect(back.domain).toBe("positive");
          expect(back.marginalStd(0.4)).toBe(Math.sqrt(back.logVariance(0.4)));
          break;
        case "vp":
          expectTypeOf(back).toEqualTypeOf<VPSDE>();
          expect(back.noiseLevel(0.4)).toBeCloseTo(Math.sqrt(Math.expm1(back.beta.integral(0.4))), 14);
          break;
        case "ve":
          expectTypeOf(back).toEqualTypeOf<VESDE>();
          expect(back.sigmaAt(0.4)).toBe(back.noiseLevel(0.4));
          break;
        default:
          expectTypeOf(back).toBeNever();
          throw new Error("unreachable");
      }
    }
  });

  it("is typed as the union, discriminated by kind", () => {
    expectTypeOf(sdeFromJSON).returns.toEqualTypeOf<AnySDE>();
    expectTypeOf<AnySDE["kind"]>().toEqualTypeOf<"gbm" | "vp" | "ve">();
    expectTypeOf<Extract<AnySDE, { kind: "gbm" }>>().toEqualTypeOf<GBM>();
    expectTypeOf<AnySDE>().toExtend<SDE>();
    const byKind = { gbm: gbm(), vp: vpSDE(), ve: veSDE() } satisfies {
      [K in AnySDE["kind"]]: Extract<AnySDE, { kind: K }>;
    };
    expect(Object.keys(byKind)).toEqual(["gbm", "vp", "ve"]);
  });
});

describe("perSample: one value per sample, broadcast over any rank", () => {
  it("shapes numbers and [batch] tensors to [batch, 1, ..., 1], and timeTensor uses it", () => {
    const x = tf.zeros([2, 3, 4, 1]);
    const t = tf.tensor1d([0.25, 0.5]);
    const before = tf.memory().numTensors;
    const fromArray = perSample([1, 2], x);
    const fromTyped = perSample(Float32Array.of(1, 2), tf.zeros([2]));
    const fromTensor = perSample(t, x);
    const fromTime = timeTensor(t, x, (s) => 4 * s, "test");
    expect(fromArray.shape).toEqual([2, 1, 1, 1]);
    expect(fromTyped.shape).toEqual([2]);
    expect(fromTensor.shape).toEqual([2, 1, 1, 1]);
    expect(Array.from(fromTensor.dataSync())).toEqual([0.25, 0.5]);
    expect(fromTime.shape).toEqual([2, 1, 1, 1]);
    expect(Array.from(fromTime.dataSync())).toEqual([1, 2]);
    tf.dispose([fromArray, fromTyped, fromTensor, fromTime]);
    expect(tf.memory().numTensors).toBe(before + 1); // the zeros([2]) above
    tf.dispose([x, t]);
  });

  it("names the caller when the count does not match the batch", () => {
    const x = tf.zeros([3, 2]);
    expect(() => perSample([1, 2], x, "myLoss")).toThrow(
      /myLoss: need one value per sample of x \(shape \[3\]\), got 2 values/,
    );
    expect(() => perSample(tf.zeros([3, 1]), x)).toThrow(/perSample: .*got shape \[3,1\]/);
    expect(() => perSample([1], tf.scalar(1))).toThrow(/perSample: x must be \[batch, \.\.\.\]/);
    x.dispose();
  });
});
