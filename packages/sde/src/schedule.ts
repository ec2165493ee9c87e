import { assertOneOf } from "./util";

/**
 * A coefficient of an SDE as a function of time, carrying the integrals that keep marginals in closed form.
 *
 * GBM's log-normal marginal needs int_0^t (mu(s) - sigma(s)^2 / 2) ds and int_0^t sigma(s)^2 ds (docs/method.md,
 * section 1); the VP-SDE needs int_0^t beta(s) ds. A schedule therefore gives its value, its integral and the
 * integral of its square, all from 0 to t.
 *
 * @example
 * const s = linearSchedule(0.1, 20); // beta(t) = 0.1 + 19.9 t on [0, 1]
 * s.value(0.5); // 10.05
 * s.integral(1); // 10.05
 */
export interface Schedule {
  /** f(t). */
  value(t: number): number;
  /** int_0^t f(s) ds. */
  integral(t: number): number;
  /** int_0^t f(s)^2 ds. */
  integralOfSquare(t: number): number;
  /** A JSON description that rebuilds the schedule with {@link scheduleFromJSON}; `custom` schedules have none. */
  toJSON(): ScheduleJSON;
}

export type ScheduleJSON =
  | { kind: "constant"; value: number }
  | { kind: "linear"; start: number; end: number; T: number }
  | { kind: "geometric"; sigmaMin: number; sigmaMax: number; T: number }
  | { kind: "custom"; name: string };

/** f(t) = c. */
export function constantSchedule(c: number): Schedule {
  assertFinite(c, "constantSchedule", "c");
  return {
    value: () => c,
    integral: (t) => c * t,
    integralOfSquare: (t) => c * c * t,
    toJSON: () => ({ kind: "constant", value: c }),
  };
}

/** f(t) = start + (end - start) t / T, linear from `start` at t = 0 to `end` at t = T (score_sde's beta(t)). */
export function linearSchedule(start: number, end: number, T = 1): Schedule {
  assertFinite(start, "linearSchedule", "start");
  assertFinite(end, "linearSchedule", "end");
  if (!(T > 0)) throw new Error(`linearSchedule: T must be positive, got ${T}.`);
  const a = start;
  const b = (end - start) / T;
  return {
    value: (t) => a + b * t,
    integral: (t) => a * t + (b * t * t) / 2,
    integralOfSquare: (t) => a * a * t + a * b * t * t + (b * b * t * t * t) / 3,
    toJSON: () => ({ kind: "linear", start, end, T }),
  };
}

/**
 * The diffusion coefficient of the VE-SDE (Song et al. 2021): f(t) = sigma_min r^(t/T) sqrt(2 ln r / T) with
 * r = sigma_max / sigma_min, so that int_0^t f^2 = sigma_min^2 (r^(2t/T) - 1) grows geometrically from 0 to about
 * sigma_max^2. As GBM's sigma(t) it makes log space a VE process: the log-noise std runs from 0 to sigma_max, with
 * uniform training times spread evenly over log(noise level), as in NCSN.
 *
 * @example
 * const sde = gbm({ sigma: geometricSchedule(0.01, 2) }); // v(1) = 1e-4 (200^2 - 1) = 3.9999
 */
export function geometricSchedule(sigmaMin: number, sigmaMax: number, T = 1): Schedule {
  if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Number.isFinite(sigmaMax)) {
    throw new Error(`geometricSchedule: need 0 < sigmaMin < sigmaMax, got sigmaMin ${sigmaMin}, sigmaMax ${sigmaMax}.`);
  }
  if (!(T > 0) || !Number.isFinite(T)) throw new Error(`geometricSchedule: T must be positive, got ${T}.`);
  const logR = Math.log(sigmaMax / sigmaMin);
  const c = sigmaMin * Math.sqrt((2 * logR) / T);
  return {
    value: (t) => c * Math.exp((logR * t) / T),
    integral: (t) => ((c * T) / logR) * Math.expm1((logR * t) / T),
    integralOfSquare: (t) => sigmaMin * sigmaMin * Math.expm1((2 * logR * t) / T),
    toJSON: () => ({ kind: "geometric", sigmaMin, sigmaMax, T }),
  };
}

/**
 * A user-defined schedule. The caller supplies the integrals in closed form; they are checked against the
 * trapezoidal rule at a few points so that a wrong antiderivative fails at construction, not silently in training.
 */
export function customSchedule(options: {
  name: string;
  value: (t: number) => number;
  integral: (t: number) => number;
  integralOfSquare: (t: number) => number;
  /** Interval over which the integrals are checked; default [0, 1]. */
  T?: number;
}): Schedule {
  const { name, value, integral, integralOfSquare, T = 1 } = options;
  const n = 2000;
  const h = T / n;
  let acc = 0;
  let acc2 = 0;
  for (let i = 0; i < n; i++) {
    const f0 = value(i * h);
    const f1 = value((i + 1) * h);
    acc += (h * (f0 + f1)) / 2;
    acc2 += (h * (f0 * f0 + f1 * f1)) / 2;
    if ((i + 1) % 500 === 0) {
      const t = (i + 1) * h;
      checkClose(integral(t), acc, `customSchedule "${name}": integral(${t})`);
      checkClose(integralOfSquare(t), acc2, `customSchedule "${name}": integralOfSquare(${t})`);
    }
  }
  return { value, integral, integralOfSquare, toJSON: () => ({ kind: "custom", name }) };
}

/** Rebuilds a constant, linear or geometric schedule from its JSON description. */
export function scheduleFromJSON(json: ScheduleJSON): Schedule {
  assertOneOf(json?.kind, ["constant", "linear", "geometric", "custom"], "scheduleFromJSON", "kind");
  switch (json.kind) {
    case "constant":
      return constantSchedule(json.value);
    case "linear":
      return linearSchedule(json.start, json.end, json.T);
    case "geometric":
      return geometricSchedule(json.sigmaMin, json.sigmaMax, json.T);
    case "custom":
      throw new Error(`scheduleFromJSON: custom schedule "${json.name}" cannot be rebuilt from JSON; pass it again.`);
  }
}

/** A number becomes a constant schedule; a schedule passes through. */
export function toSchedule(s: number | Schedule, fn: string, arg: string): Schedule {
  if (typeof s === "number") {
    assertFinite(s, fn, arg);
    return constantSchedule(s);
  }
  if (s == null || typeof s.value !== "function") {
    throw new Error(`${fn}: ${arg} must be a number or a Schedule, got ${String(s)}.`);
  }
  return s;
}

function assertFinite(x: number, fn: string, arg: string): void {
  if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${fn}: ${arg} must be a finite number, got ${x}.`);
}

function checkClose(got: number, want: number, what: string): void {
  if (!(Math.abs(got - want) <= 1e-4 * (1 + Math.abs(want)))) {
    throw new Error(`${what} = ${got}, but the trapezoidal rule gives ${want}: check the closed form.`);
  }
}
