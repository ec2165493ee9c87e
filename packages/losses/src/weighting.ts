import type { GBM } from "@dale/sde";

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
