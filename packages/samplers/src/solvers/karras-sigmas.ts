import { checkSteps } from "./integrate";

/**
 * The noise levels of Karras et al. (2022), eq. 5 (k-diffusion's `get_sigmas_karras`): steps values evenly spaced in
 * sigma^(1/rho) from sigmaMax down to sigmaMin, then 0,
 *
 *     sigma_i = (sigmaMax^(1/rho) + i / (steps - 1) (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho,   i < steps;
 *     sigma_steps = 0.
 *
 * A larger rho spends more steps at low noise. With steps = 1 the levels are [sigmaMax, 0].
 *
 * @returns steps + 1 noise levels, the first exactly sigmaMax, the one before last exactly sigmaMin, the last 0
 * @example
 * karrasSigmas(18, { sigmaMin: 0.002, sigmaMax: 80 }); // EDM's CIFAR-10 levels: 80, 57.6, ..., 0.002, 0
 */
export function karrasSigmas(steps: number, o: { sigmaMin: number; sigmaMax: number; rho?: number }): Float64Array {
  const fn = "karrasSigmas";
  checkSteps(steps, fn, "steps");
  const { sigmaMin, sigmaMax, rho = 7 } = o;
  if (!(sigmaMin > 0 && sigmaMin < sigmaMax && Number.isFinite(sigmaMax))) {
    throw new Error(`${fn}: sigmaMin and sigmaMax must satisfy 0 < sigmaMin < sigmaMax < Infinity, got ${sigmaMin} and ${sigmaMax}.`);
  }
  if (!(rho > 0 && Number.isFinite(rho))) throw new Error(`${fn}: rho must be a positive number, got ${rho}.`);
  const hi = sigmaMax ** (1 / rho);
  const lo = sigmaMin ** (1 / rho);
  const sigmas = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) sigmas[i] = steps === 1 ? sigmaMax : (hi + (i / (steps - 1)) * (lo - hi)) ** rho;
  sigmas[0] = sigmaMax;
  if (steps > 1) sigmas[steps - 1] = sigmaMin;
  return sigmas;
}
