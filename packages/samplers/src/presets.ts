import type { PriorParams } from "@dale/sde";

/** The reference implementation's schedule for one sampler on one dataset (docs/method.md, section 7). */
export interface ReferenceSchedule {
  steps: number;
  delta: number;
  repeats: number;
  anneal: number;
  denoiseSteps: number;
  /** false: the reference injects noise in its last update too (its annealing has shrunk that noise by then). */
  denoise: false;
}

export interface ReferencePreset {
  daleLangevin: ReferenceSchedule;
  signAgnostic: ReferenceSchedule;
  /** The fitted log-normal prior at T for data in [1, 2] (pixels / 255 + 1). */
  prior: PriorParams;
}

export type ReferenceDataset = "mnist" | "fashion-mnist" | "kmnist" | "cifar10";

const schedule = (delta: number, repeats: number, anneal: number, denoiseSteps = 0): ReferenceSchedule => ({
  steps: 1000,
  delta,
  repeats,
  anneal,
  denoiseSteps,
  denoise: false,
});

/**
 * Sampler settings read from the reference code (docs/method.md, section 7): 1000 levels, a tuned step delta, L repeats
 * per level, a noise anneal factor, and for CIFAR-10 25 final noise-free steps. They assume sigma = 0.8, mu = 0.32,
 * T = 1. Spread one into the sampler's options:
 *
 * @example
 * const { daleLangevin: schedule, prior } = referencePresets.mnist;
 * const sde = gbm().withPrior(prior);
 * const x0 = await daleLangevin(score, sde.prior.sample([16, 28, 28, 1], 0), { sde, ...schedule });
 */
export const referencePresets: Readonly<Record<ReferenceDataset, ReferencePreset>> = {
  mnist: {
    daleLangevin: schedule(6.1655e-4, 1, 0.995),
    signAgnostic: schedule(1.4384e-4, 4, 0.995),
    prior: { loc: 0.15652, scale: 0.83528 },
  },
  "fashion-mnist": {
    daleLangevin: schedule(5.8627e-4, 1, 0.995),
    signAgnostic: schedule(1.4678e-3, 3, 0.9995),
    prior: { loc: 0.27713, scale: 0.84283 },
  },
  kmnist: {
    daleLangevin: schedule(2.1132e-4, 3, 0.995),
    signAgnostic: schedule(2.1132e-4, 3, 1.0),
    prior: { loc: 0.21402, scale: 0.82904 },
  },
  cifar10: {
    daleLangevin: schedule(1.1421e-4, 6, 0.9995, 25),
    signAgnostic: schedule(1.4384e-4, 5, 0.9995, 25),
    prior: { loc: [0.4075, 0.3785, 0.3693], scale: [0.8, 0.8, 0.8], shape: [3] },
  },
};
