import { noiseLevel, timeAtNoiseLevel, type SDE } from "@dale/sde";
import { checkInteger } from "./guards";

/** The noise level sigma(t) that the "karras" grid spaces evenly (defined in `@dale/sde`). */
export { noiseLevel };

/**
 * Where the time levels fall: `"uniform"` (t_k = T k / steps, score_sde's and the reference's grid), `"karras"`
 * (Karras et al. 2022, eq. 5: levels evenly spaced in noise level^(1/rho) from t = T down to `tMin`, then a last step
 * to 0), or the times themselves: `steps + 1` values falling strictly from at most T to exactly 0.
 */
export type TimeGrid = "uniform" | "karras" | readonly number[];

/** How a sampler discretises [0, T]. */
export interface GridOptions {
  /** Default `"uniform"`. See {@link TimeGrid}. */
  grid?: TimeGrid;
  /** The Karras grid's exponent rho. Default 7 (EDM). */
  rho?: number;
  /** The Karras grid's last level before 0. Default 1e-3 T (training draws t from [1e-3 T, T]). */
  tMin?: number;
}

/**
 * The time levels of the default discretisation: t_k = T k / steps for k = steps down to 1 (a grid is data, as in
 * k-diffusion's `get_sigmas_*`). Each update steps from t_k to t_k - delta.
 */
export function timeLevels(T: number, steps: number): Float64Array {
  checkInteger(steps, "timeLevels", "steps", 1);
  return uniformTimes(T, steps).subarray(0, steps);
}

/** The uniform grid's steps + 1 times T k / steps, k = steps down to 0. */
export function uniformTimes(T: number, steps: number): Float64Array {
  return Float64Array.from({ length: steps + 1 }, (_, i) => (T * (steps - i)) / steps);
}

/**
 * The times a sampler visits: `steps + 1` values from T (or the first of an explicit grid) down to 0. Update k
 * evaluates the score at times[k] and steps by times[k] - times[k + 1].
 *
 * @example
 * timeGrid(gbm(), 10, { grid: "karras" }); // sqrt(v(t)) evenly spaced in its 7th root from 0.8 to 0.8 sqrt(1e-3)
 */
export function timeGrid(sde: SDE, steps: number, options: GridOptions = {}): Float64Array {
  checkInteger(steps, "sampler", "steps", 1);
  const { T } = sde;
  const grid = options.grid ?? "uniform";
  if (grid === "uniform") return uniformTimes(T, steps);
  if (grid === "karras") {
    const rho = options.rho ?? 7;
    const tMin = options.tMin ?? 1e-3 * T;
    if (!(rho > 0) || !Number.isFinite(rho)) throw new Error(`sampler: rho must be a positive number, got ${rho}.`);
    if (!(tMin > 0 && tMin < T)) throw new Error(`sampler: tMin must be in (0, T = ${T}), got ${tMin}.`);
    const sMax = noiseLevel(sde, T) ** (1 / rho);
    const sMin = noiseLevel(sde, tMin) ** (1 / rho);
    const times = new Float64Array(steps + 1);
    times[0] = T;
    for (let i = 1; i < steps; i++) times[i] = timeAtNoiseLevel(sde, (sMax + (i / (steps - 1)) * (sMin - sMax)) ** rho);
    if (steps > 1) times[steps - 1] = tMin;
    return times;
  }
  if (!Array.isArray(grid) && !ArrayBuffer.isView(grid)) {
    throw new Error(`sampler: grid must be "uniform", "karras" or an array of times, got ${JSON.stringify(grid)}.`);
  }
  const times = Float64Array.from(grid as ArrayLike<number>);
  if (times.length !== steps + 1) throw new Error(`sampler: an explicit grid needs steps + 1 = ${steps + 1} times, got ${times.length}.`);
  if (!(times[0]! <= T) || times[steps] !== 0) {
    throw new Error(`sampler: an explicit grid must start at or below T = ${T} and end at 0, got ${times[0]} ... ${times[steps]}.`);
  }
  for (let i = 0; i < steps; i++) {
    if (!(times[i]! > times[i + 1]!)) throw new Error(`sampler: an explicit grid must fall strictly; times[${i}] = ${times[i]}, times[${i + 1}] = ${times[i + 1]}.`);
  }
  return times;
}
