import type { GBM, VESDE, VPSDE } from "@dale/sde";

/** A loss weighting lambda(t) for M-DSM and M-ESM. */
export type Weighting = (sde: GBM, t: number) => number;

/** lambda(t) = v(t)^2 = (int_0^t sigma^2)^2, which is (sigma^2 t)^2 for constant sigma: the reference choice. */
export const referenceWeighting: Weighting = (sde, t) => sde.logVariance(t) ** 2;

/** lambda(t) = v(t): the analogue of score_sde's sigma_t^2 weighting; the residual becomes a noise prediction. */
export const varianceWeighting: Weighting = (sde, t) => sde.logVariance(t);

/** lambda(t) = sigma(t)^2, the likelihood weighting g^2 of the log-space SDE (Song et al. 2021b). */
export const likelihoodWeighting: Weighting = (sde, t) => sde.sigma.value(t) ** 2;

/** lambda(t) = 1. */
export const uniformWeighting: Weighting = () => 1;

/**
 * EDM's loss weighting (Karras et al. 2022, arXiv 2206.00364, Table 1) written as an M-DSM weighting
 * (docs/method.md, section 9). With y = log x and the denoiser D of a model whose Hyvarinen score is
 * h = (D - y) / v - 1, the M-DSM residual is h - h_target = (D - y_0) / v, so
 *
 *     lambda(t) || h - h_target ||^2 = lambda / v^2 || D - y_0 ||^2,
 *
 * and EDM's weight (v + sd^2) / (v sd^2) on || D - y_0 ||^2 is M-DSM with
 *
 *     lambda(t) = v (v + sd^2) / sd^2,   v = v(t) = sigma(t)^2 the log-noise variance, sd = sigma_data.
 *
 * (The paper's lambda = v^2 is plain denoiser MSE in log space.)
 *
 * @param sigmaData std of the training data's log x_0
 * @example
 * const loss = mdsmLoss(toLossModel(model, sde), x0, { sde, weighting: edmWeighting(0.25), t, seed });
 */
export function edmWeighting(sigmaData: number): Weighting {
  checkSigmaData(sigmaData, "edmWeighting");
  const sd2 = sigmaData * sigmaData;
  return (sde, t) => {
    const v = sde.logVariance(t);
    return (v * (v + sd2)) / sd2;
  };
}

/**
 * EDM's loss weighting as a weighting of additive DSM (`dsmLoss`), lambda(b, t). With y = x / a(t), sigma = b / a
 * and a denoiser D, the DSM residual s_theta + Z / b equals (D - y_0) / (sigma^2 a), so EDM's
 * (sigma^2 + sd^2) / (sigma sd)^2 || D - y_0 ||^2 is DSM with
 *
 *     lambda = sigma^2 a^2 (sigma^2 + sd^2) / sd^2 = b^2 (sigma^2 + sd^2) / sd^2.
 *
 * @param sigmaData std of the training data in y (pixels for VE, the clean image for VP)
 */
export function edmDsmWeighting(sde: VPSDE | VESDE, sigmaData: number): (std: number, t: number) => number {
  checkSigmaData(sigmaData, "edmDsmWeighting");
  const sd2 = sigmaData * sigmaData;
  return (b, t) => {
    const s2 = sde.noiseLevel(t) ** 2;
    return (b * b * (s2 + sd2)) / sd2;
  };
}

function checkSigmaData(sigmaData: number, fn: string): void {
  if (!(sigmaData > 0) || !Number.isFinite(sigmaData)) throw new Error(`${fn}: sigmaData must be a positive finite number, got ${sigmaData}.`);
}
