import type { GBM } from "@dale/sde";
import type { BaseSamplerOptions } from "./run-loop";
import type { ScheduleOptions } from "./update-plan";

/** Options of the GBM samplers, including the reference implementation's schedule (docs/method.md, section 7). */
export interface GBMSamplerOptions extends BaseSamplerOptions, ScheduleOptions {
  /** The forward process; its mu(t) and sigma(t) enter every update. */
  sde: GBM;
  /**
   * The last update injects no noise, as score_sde's `denoise` and the additive samplers here. Default true: on the
   * uniform grid the last step otherwise leaves noise of std sigma sqrt(T / steps) in log space (0.11 at 50 steps of
   * the reference process), which shows as speckle.
   */
  denoise?: boolean;
}
