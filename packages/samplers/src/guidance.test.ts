import * as tf from "@tensorflow/tfjs-core";
import { geometricSchedule, gbm, normalArray } from "@dale/sde";
import { lognormalMixtureScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import { autoguidance, denoiserFromScore, solveProcess } from "./index";

// One log-normal component: log X_0 ~ N(m, s^2), under the EDM recipe's GBM (log-noise std 0 to sigma_max = 10). A
// "good" model knows s = s_g, a "bad" one s = s_b. Each exact denoiser is linear in log space,
// D(y; sigma) = m + k(sigma) (y - m) with k = s^2 / (s^2 + sigma^2), so the probability-flow ODE with the guided
// denoiser D_w = D_b + w (D_g - D_b) scales y - m by exp(-int_0^sigma_max (1 - k_w(sigma)) / sigma dsigma), and
// int (1 - k) / sigma dsigma = ln(s^2 + sigma^2) / 2. From the good model's exact p_T (std sqrt(s_g^2 + sigma_max^2)):
//
//     std(log X_0) = sqrt(s_g^2 + S^2) (s_b / sqrt(s_b^2 + S^2))^(1 - w) (s_g / sqrt(s_g^2 + S^2))^w,   S = sigma_max,
//
// about s_b^(1 - w) s_g^w: w = 1 gives s_g, w = 2 a sharper s_g^2 / s_b.
const sde = gbm({ sigma: geometricSchedule(0.002, 10) });
const S = Math.sqrt(sde.logVariance(sde.T));
const m = 0.3;
const [sg, sb] = [0.05, 0.1];
const component = (s: number) => lognormalMixtureScore(sde, { weights: [1], means: [[m]], stds: [[s]] }).stein;
const good = denoiserFromScore(component(sg), sde);
const bad = denoiserFromScore(component(sb), sde);
const predicted = (w: number) => Math.sqrt(sg ** 2 + S ** 2) * (sb / Math.sqrt(sb ** 2 + S ** 2)) ** (1 - w) * (sg / Math.sqrt(sg ** 2 + S ** 2)) ** w;

describe("autoguidance", () => {
  it("is the extrapolation D_b + w (D_g - D_b): w = 1 the good model, w = 0 the bad one", () => {
    const before = tf.memory().numTensors;
    const y = tf.tensor([[0.1], [0.4], [-2]]);
    for (const sigma of [0.01, 0.5, 5]) {
      const [g, b] = [good(y, sigma), bad(y, sigma)];
      const expected = (w: number) => tf.tidy(() => tf.add(b, tf.mul(tf.sub(g, b), w)));
      for (const w of [0, 1, 2.5]) {
        const got = autoguidance(good, bad, w)(y, sigma);
        const want = expected(w);
        expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
        tf.dispose([got, want]);
      }
      const one = autoguidance(good, bad, 1)(y, sigma);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(one, g))).dataSync()[0])).toBeLessThan(1e-6);
      tf.dispose([g, b, one]);
    }
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("sharpens a log-normal to the predicted log-std, keeps the mean and every sign", async () => {
    const n = 20000;
    const z = normalArray(n, 11, 0);
    const xT = tf.exp(tf.tensor(Float32Array.from(z, (v) => m + Math.sqrt(sg ** 2 + S ** 2) * v), [n, 1]));
    for (const w of [1, 2, 3]) {
      const x0 = await solveProcess(autoguidance(good, bad, w), xT, { sde, solver: "heun", steps: 64 });
      const y = Array.from(tf.tidy(() => tf.log(x0)).dataSync());
      expect(tf.tidy(() => tf.min(x0).dataSync()[0] as number)).toBeGreaterThan(0);
      const mean = y.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      // The draws' own std error is about 1% of sigma_max's scale-down; the solver adds less.
      expect(Math.abs(mean - m), `w ${w}`).toBeLessThan(3 * (predicted(w) / Math.sqrt(n)) + 1e-3);
      expect(Math.abs(std / predicted(w) - 1), `w ${w}: std ${std}, predicted ${predicted(w)}`).toBeLessThan(0.03);
      x0.dispose();
    }
    expect(predicted(2)).toBeCloseTo(sg ** 2 / sb, 3); // about 0.025
    xT.dispose();
  });

  it("refuses a bad weight or a non-function by name", () => {
    expect(() => autoguidance(good, bad, -1)).toThrow(/^autoguidance: weight must be a finite number >= 0, got -1\.$/);
    expect(() => autoguidance(good, bad, Number.NaN)).toThrow(/weight must be a finite number/);
    // @ts-expect-error not a denoiser
    expect(() => autoguidance(good, null, 2)).toThrow(/^autoguidance: good and bad must be denoisers/);
  });
});
