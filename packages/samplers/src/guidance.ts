import * as tf from "@tensorflow/tfjs-core";
import type { Denoiser } from "./solvers";

/**
 * Autoguidance (Karras et al. 2024, "Guiding a Diffusion Model with a Bad Version of Itself", arXiv 2406.02507,
 * eq. 2): the denoiser extrapolated from a weaker model of the same task (fewer training steps or less capacity) towards
 * the main one,
 *
 *     D_w(y; sigma) = D_bad(y; sigma) + w (D_good(y; sigma) - D_bad(y; sigma)),
 *
 * which for w > 1 pulls samples away from the regions where the weak model errs more than the main one, as
 * classifier-free guidance does for a condition, but needs no condition. Both denoisers must work in the same noise
 * coordinates of the same process (for GBM, log space: the result stays sign-preserving, since the solvers form x =
 * exp(y) only at the end). w = 1 is the main model alone, w = 0 the weak one.
 *
 * Each evaluation runs both networks, so a solver that reports NFE n makes 2n network evaluations.
 *
 * @example
 * const D = autoguidance(toDenoiser(model, sde), toDenoiser(earlier, sde), 2);
 * const x0 = await solveProcess(D, sde.prior.sample([16, 28, 28, 1], 0), { sde, solver: "heun", steps: 13 });
 */
export function autoguidance(good: Denoiser, bad: Denoiser, weight: number): Denoiser {
  const fn = "autoguidance";
  if (typeof good !== "function" || typeof bad !== "function") throw new Error(`${fn}: good and bad must be denoisers (y, sigma) => tf.Tensor.`);
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) throw new Error(`${fn}: weight must be a finite number >= 0, got ${String(weight)}.`);
  return (y, sigma) =>
    tf.tidy(() => {
      const g = good(y, sigma);
      const b = bad(y, sigma);
      if (!tf.util.arraysEqual(g.shape, b.shape)) throw new Error(`${fn}: the two denoisers returned shapes [${g.shape}] and [${b.shape}] at sigma = ${sigma}.`);
      return tf.add(b, tf.mul(tf.sub(g, b), weight));
    });
}
