import { assertOneOf, type SDE } from "@dale/sde";
import { checkInteger } from "./guards";
import { SOLVER_NAMES, solvers, type SolverName } from "./solvers";

// One typed catalogue of every sampler of this package (diffusers' `order`, k-diffusion's `sample_*` names): name,
// process family, network evaluations for a schedule and back, stochastic or not, and the citation. Apps import it
// instead of keeping their own lists; `runSampler` (run-sampler.ts) runs any entry by name.

/** The samplers that step a reverse process of `@dale/sde` on a time grid, with the score. */
export const REFERENCE_SAMPLER_NAMES = ["dale-langevin", "sign-agnostic", "probability-flow", "euler-maruyama", "predictor-corrector"] as const;

/** A sampler that steps a reverse process on a time grid. */
export type ReferenceSamplerName = (typeof REFERENCE_SAMPLER_NAMES)[number];

/** Every sampler's name: the reference samplers, then the sigma-space solvers of the `solvers` catalogue. */
export type SamplerName = ReferenceSamplerName | SolverName;

/** Every sampler's name, in the catalogue's order (the reference samplers, then the solvers). */
export const SAMPLER_NAMES: readonly [SamplerName, ...SamplerName[]] = [...REFERENCE_SAMPLER_NAMES, ...SOLVER_NAMES];

/** The named time grids of a schedule (`TimeGrid` of the reference samplers, without explicit arrays). */
export const GRID_NAMES = ["uniform", "karras"] as const;

/** A named time grid. */
export type GridName = (typeof GRID_NAMES)[number];

/**
 * The processes a sampler serves: `"multiplicative"` (GBM only), `"additive"` (VP and VE only), or `"any"` (the
 * sigma-space solvers, which run in every process's noise coordinates).
 */
export type ProcessFamily = "multiplicative" | "additive" | "any";

/**
 * The step schedule of any sampler, as data (an app parses it from a command line or a file). Each sampler reads the
 * fields its catalogue entry lists in `scheduleOptions` and ignores the others.
 */
export interface SamplerSchedule {
  /** Time levels of a reference sampler, or steps of a solver. */
  steps: number;
  /** Where the time levels fall (`timeGrid`); default uniform. The reference samplers only: the solvers always run on the Karras grid in noise level. */
  grid?: GridName;
  /** The karras grid's exponent (default 7): of the time grid for the reference samplers, of the noise levels for the solvers. */
  rho?: number;
  /** The solvers' smallest non-zero noise level (default 0.002, EDM's). */
  sigmaMin?: number;
  /** The karras time grid's last level before 0 (default 1e-3 T). */
  tMin?: number;
  /** The reference's fixed step (dale-langevin and sign-agnostic; default T / steps). */
  delta?: number;
  /** Updates per level (dale-langevin and sign-agnostic; default 1). */
  repeats?: number;
  /** Noise factor per level (dale-langevin and sign-agnostic; default 1). */
  anneal?: number;
  /** Noise-free updates after the last level (dale-langevin and sign-agnostic; default 0). */
  denoiseSteps?: number;
  /** The last update injects no noise (dale-langevin and sign-agnostic; default true). */
  denoise?: boolean;
  /**
   * EDM's stochastic sampler only (Karras et al. 2022, arXiv 2206.00364, Algorithm 2): the overall churn S_churn
   * (default 40), the noise-level band [sTmin, sTmax] it acts in (default 0.05 to sigma(T) / sqrt(2)) and the factor
   * S_noise on the added noise (default 1). `edmStochastic` documents each.
   */
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  /** DPM-Solver++(2M) SDE only: the stochasticity eta (default 1, the reverse SDE's own noise; 0 is dpmpp-2m). */
  eta?: number;
}

/** One entry of {@link samplerCatalogue}. */
export interface SamplerEntry<K extends SamplerName = SamplerName> {
  name: K;
  /** The processes it serves. */
  family: ProcessFamily;
  /** Whether it integrates a reverse process on a time grid with the score, or is a sigma-space solver with a denoiser. */
  kind: "reference" | "solver";
  /** Whether it injects noise (and so reads the seed). */
  stochastic: boolean;
  /** Network evaluations per step, in words. */
  nfePerStep: string;
  /** The algorithm, as a citation that resolves: a paper (arXiv id, algorithm or section) or docs/method.md. */
  reference: string;
  /** The fields of {@link SamplerSchedule} it reads; `runSampler` ignores the others. */
  scheduleOptions: readonly (keyof SamplerSchedule)[];
  /** Network evaluations per sample of a run with this schedule. */
  nfe(schedule: SamplerSchedule): number;
  /** The most steps whose network evaluations per sample (with no other schedule option) fit in `nfe`; 0 when not even one step fits. */
  stepsForNfe(nfe: number): number;
}

const GRID_OPTIONS = ["steps", "grid", "rho", "tMin"] as const satisfies readonly (keyof SamplerSchedule)[];
const GBM_OPTIONS = [...GRID_OPTIONS, "delta", "repeats", "anneal", "denoiseSteps", "denoise"] as const satisfies readonly (keyof SamplerSchedule)[];
const SOLVER_OPTIONS = ["steps", "rho", "sigmaMin"] as const satisfies readonly (keyof SamplerSchedule)[];
/** Schedule fields a solver reads beyond {@link SOLVER_OPTIONS}: its stochasticity. */
const SOLVER_EXTRA: Partial<Record<SolverName, readonly (keyof SamplerSchedule)[]>> = {
  "edm-stochastic": ["sChurn", "sTmin", "sTmax", "sNoise"],
  "dpmpp-2m-sde": ["eta"],
};

/** Updates of a reference-schedule run: steps repeats + denoiseSteps, one network evaluation each. */
const updates = (s: SamplerSchedule) => s.steps * (s.repeats ?? 1) + (s.denoiseSteps ?? 0);

/** A solver's entry, from the `solvers` catalogue. */
function solverEntry<K extends SolverName>(name: K): SamplerEntry<K> {
  const solver = solvers[name];
  return {
    name,
    family: "any",
    kind: "solver",
    stochastic: solver.stochastic,
    nfePerStep: solver.nfePerStep,
    reference: solver.reference,
    scheduleOptions: [...SOLVER_OPTIONS, ...(SOLVER_EXTRA[name] ?? [])],
    nfe: (s) => solver.nfe(s.steps),
    stepsForNfe: (nfe) => solver.stepsForNfe(nfe),
  };
}

/**
 * The catalogue of every sampler: the reference samplers, which step a reverse process of `@dale/sde` on a time grid
 * with the score, and the sigma-space solvers (the `solvers` catalogue), which run in the process's noise coordinates
 * with a denoiser. Use {@link samplerNfe} and {@link stepsForNfe} rather than the entries' functions: they check their
 * arguments and name themselves in errors.
 *
 * @example
 * samplerCatalogue["probability-flow"].nfe({ steps: 18 }); // 35
 * SAMPLER_NAMES.filter((name) => samplerCatalogue[name].family !== "additive"); // what serves GBM
 */
export const samplerCatalogue: { readonly [K in SamplerName]: Readonly<SamplerEntry<K>> } = {
  "dale-langevin": {
    name: "dale-langevin",
    family: "multiplicative",
    kind: "reference",
    stochastic: true,
    nfePerStep: "1 per update (repeats per level, plus denoiseSteps)",
    reference:
      "Dale-Langevin: Euler-Maruyama on GBM's reverse SDE in log space, then exp; Shetty, Prasath and Seelamantula (2025), " +
      "arXiv 2510.02730; docs/method.md, section 4",
    scheduleOptions: GBM_OPTIONS,
    nfe: updates,
    stepsForNfe: (nfe) => nfe,
  },
  "sign-agnostic": {
    name: "sign-agnostic",
    family: "multiplicative",
    kind: "reference",
    stochastic: true,
    nfePerStep: "1 per update (repeats per level, plus denoiseSteps)",
    reference:
      "The sign-agnostic sampler: Euler-Maruyama on GBM's reverse SDE in ambient space; Shetty, Prasath and Seelamantula " +
      "(2025), arXiv 2510.02730; docs/method.md, section 4",
    scheduleOptions: GBM_OPTIONS,
    nfe: updates,
    stepsForNfe: (nfe) => nfe,
  },
  "probability-flow": {
    name: "probability-flow",
    family: "multiplicative",
    kind: "reference",
    stochastic: false,
    nfePerStep: "2 (1 on the last step, into t = 0)",
    reference:
      "Heun's method (Karras et al. (2022), arXiv 2206.00364, Algorithm 1) on GBM's probability-flow ODE in log space " +
      "(Song et al. (2021), arXiv 2011.13456, section 4.3; docs/method.md, section 3)",
    scheduleOptions: GRID_OPTIONS,
    nfe: (s) => 2 * s.steps - 1,
    stepsForNfe: (nfe) => Math.floor((nfe + 1) / 2),
  },
  "euler-maruyama": {
    name: "euler-maruyama",
    family: "additive",
    kind: "reference",
    stochastic: true,
    nfePerStep: "1",
    reference: "Euler-Maruyama on the reverse-time SDE: Song et al. (2021), arXiv 2011.13456, section 4.1 (score_sde's EulerMaruyamaPredictor)",
    scheduleOptions: GRID_OPTIONS,
    nfe: (s) => s.steps,
    stepsForNfe: (nfe) => nfe,
  },
  "predictor-corrector": {
    name: "predictor-corrector",
    family: "additive",
    kind: "reference",
    stochastic: true,
    nfePerStep: "2 (one Langevin corrector update, one Euler-Maruyama predictor)",
    reference: "Predictor-corrector sampling: Song et al. (2021), arXiv 2011.13456, section 4.2 and Algorithm 1 (score_sde's LangevinCorrector)",
    scheduleOptions: GRID_OPTIONS,
    nfe: (s) => 2 * s.steps,
    stepsForNfe: (nfe) => Math.floor(nfe / 2),
  },
  euler: solverEntry("euler"),
  heun: solverEntry("heun"),
  "edm-stochastic": solverEntry("edm-stochastic"),
  "dpmpp-2m": solverEntry("dpmpp-2m"),
  "dpmpp-2m-sde": solverEntry("dpmpp-2m-sde"),
};

/** Whether `name` names a sampler of the catalogue (to narrow a string read from a command line or a file). */
export function isSamplerName(name: string): name is SamplerName {
  return (SAMPLER_NAMES as readonly string[]).includes(name);
}

/** Whether `name` is one of the sigma-space solvers (the `solvers` catalogue), which take a denoiser. */
export function isSolver(name: string): name is SolverName {
  return (SOLVER_NAMES as readonly string[]).includes(name);
}

/**
 * Network evaluations per sample of a run of `name` with `schedule`: the reference samplers one per update
 * (dale-langevin and sign-agnostic: steps repeats + denoiseSteps; predictor-corrector two per level), the probability
 * flow and the Heun solvers 2 steps - 1, the other solvers steps.
 *
 * @example
 * samplerNfe("heun", { steps: 18 }); // 35
 * samplerNfe("dale-langevin", { steps: 1000, repeats: 6, denoiseSteps: 25 }); // 6025
 */
export function samplerNfe(name: SamplerName, schedule: SamplerSchedule): number {
  const fn = "samplerNfe";
  assertOneOf(name, SAMPLER_NAMES, fn, "name");
  if (typeof schedule !== "object" || schedule === null) throw new Error(`${fn}: schedule must be an object { steps, ... }, got ${String(schedule)}.`);
  checkInteger(schedule.steps, fn, "schedule.steps", 1);
  const entry = samplerCatalogue[name];
  if (entry.scheduleOptions.includes("repeats") && schedule.repeats !== undefined) checkInteger(schedule.repeats, fn, "schedule.repeats", 1);
  if (entry.scheduleOptions.includes("denoiseSteps") && schedule.denoiseSteps !== undefined) checkInteger(schedule.denoiseSteps, fn, "schedule.denoiseSteps", 0);
  return entry.nfe(schedule);
}

/**
 * The most steps of `name` whose network evaluations per sample ({@link samplerNfe} with no other schedule option) fit
 * in `nfe`; 0 when not even one step fits (predictor-corrector at NFE 1). The inverse of `samplerNfe` where the NFE is
 * reachable: `samplerNfe(name, { steps: stepsForNfe(name, n) }) <= n`, with equality for n = samplerNfe(name, { steps }).
 *
 * @example
 * stepsForNfe("heun", 35); // 18
 * stepsForNfe("predictor-corrector", 20); // 10
 */
export function stepsForNfe(name: SamplerName, nfe: number): number {
  const fn = "stepsForNfe";
  assertOneOf(name, SAMPLER_NAMES, fn, "name");
  checkInteger(nfe, fn, "nfe", 1);
  return samplerCatalogue[name].stepsForNfe(nfe);
}

/**
 * The most steps of `name` that fit a budget of `nfe` network evaluations per image, where every evaluation of the
 * sampler's score or denoiser runs `networks` networks: 2 under autoguidance, whose guide is evaluated beside the
 * model, and the budget counts both. Unlike {@link stepsForNfe}, it throws when not even one step fits, with an error
 * that starts with `caller`. Apps, the pretrained pipeline and the playground all turn budgets into steps here.
 *
 * @example
 * stepsWithinBudget("edm-stochastic", 50, { networks: 2 }); // 13: 25 guided evaluations, NFE 50
 */
export function stepsWithinBudget(name: SamplerName, nfe: number, options: { networks?: number; caller?: string } = {}): number {
  const { networks = 1, caller = "stepsWithinBudget" } = options;
  assertOneOf(name, SAMPLER_NAMES, caller, "name");
  checkInteger(nfe, caller, "nfe", 1);
  checkInteger(networks, caller, "networks", 1);
  const perNetwork = Math.floor(nfe / networks);
  const steps = perNetwork >= 1 ? samplerCatalogue[name].stepsForNfe(perNetwork) : 0;
  if (steps < 1) {
    const one = networks * samplerNfe(name, { steps: 1 });
    throw new Error(`${caller}: a budget of NFE ${nfe} is too small for ${name}${networks > 1 ? ` with ${networks} networks per evaluation (autoguidance)` : ""}: one step takes ${one}.`);
  }
  return steps;
}

/** The solver and steps that a denoiser model (the EDM recipe) samples with by default: Heun, 18 steps, NFE 35. */
export const DEFAULT_SOLVER: Readonly<{ sampler: SolverName; steps: number }> = Object.freeze({ sampler: "heun", steps: 18 });

/**
 * The default sampler of a model under a process: {@link DEFAULT_SOLVER} for a denoiser (the EDM recipe); otherwise
 * Dale-Langevin for GBM and Euler-Maruyama for the additive processes.
 *
 * @param output what the model outputs (`OutputKind` of `@dale/models`, e.g. "denoiser" or "stein")
 */
export function defaultSampler(sde: Pick<SDE, "kind">, output?: string): SamplerName {
  if (output === "denoiser") return DEFAULT_SOLVER.sampler;
  return sde.kind === "gbm" ? "dale-langevin" : "euler-maruyama";
}

/** The names of the samplers that serve a process, for error messages. */
function servingNames(kind: SDE["kind"]): string {
  const fits = SAMPLER_NAMES.filter((n) => samplerCatalogue[n].family === (kind === "gbm" ? "multiplicative" : "additive"));
  return `${fits.join(", ")} or a solver (${SOLVER_NAMES.join(", ")})`;
}

/**
 * Throws when the sampler does not serve the process the score was trained with: a multiplicative sampler on VP or VE,
 * or an additive one on GBM. The error names the sampler, the process and the samplers that fit.
 *
 * @example
 * checkSampler("dale-langevin", vpSDE()); // throws: ... for multiplicative (GBM) diffusion, but ... the additive vp process; use ...
 */
export function checkSampler(sampler: SamplerName, sde: Pick<SDE, "kind">): void {
  const fn = "checkSampler";
  assertOneOf(sampler, SAMPLER_NAMES, fn, "sampler");
  if (typeof sde !== "object" || sde === null) throw new Error(`${fn}: sde must be a process (gbm(), vpSDE() or veSDE()), got ${String(sde)}.`);
  assertOneOf(sde.kind, ["gbm", "vp", "ve"] as const, fn, "sde.kind");
  const { family } = samplerCatalogue[sampler];
  if (family === "multiplicative" && sde.kind !== "gbm") {
    throw new Error(
      `${fn}: the ${sampler} sampler is for multiplicative (GBM) diffusion, but the score was trained with the additive ${sde.kind} process; ` +
        `use ${servingNames(sde.kind)}.`,
    );
  }
  if (family === "additive" && sde.kind === "gbm") {
    throw new Error(
      `${fn}: the ${sampler} sampler is for additive (VP/VE) diffusion, but the score was trained with GBM, a multiplicative process; ` +
        `use ${servingNames(sde.kind)}.`,
    );
  }
}

/**
 * A sampler with its schedule, as a checkpoint may recommend it (`extra.sampling` of a dale-train checkpoint, written by
 * `dale-export --sampler ...`): what `dale-sample` and `fromPretrained` use when the caller names no sampler.
 */
export interface SamplerChoice {
  sampler: SamplerName;
  schedule: SamplerSchedule;
  /**
   * Autoguidance (`autoguidance`, Karras et al. 2024, arXiv 2406.02507) by a weaker checkpoint of the same process,
   * solvers only: `checkpoint` is its folder relative to this checkpoint's (a plain relative path, never leaving the
   * folder), `weight` the guidance weight w. Each denoiser evaluation then runs two networks.
   */
  guidance?: { checkpoint: string; weight: number };
}

/** Whether `path` is a relative path of plain names ("guide", "guides/step-2600") that stays inside its folder. */
export function isInsidePath(path: string): boolean {
  return typeof path === "string" && /^[\w.-]+(\/[\w.-]+)*$/.test(path) && !path.split("/").some((part) => part === "." || part === "..");
}

/** Each schedule field and what it must be (`SamplerSchedule`). */
const SCHEDULE_FIELDS: Record<keyof SamplerSchedule, { ok: (v: unknown) => boolean; expected: string }> = {
  steps: { ok: (v) => Number.isInteger(v) && (v as number) >= 1, expected: "an integer >= 1" },
  grid: { ok: (v) => (GRID_NAMES as readonly unknown[]).includes(v), expected: `one of ${GRID_NAMES.join(", ")}` },
  rho: { ok: (v) => typeof v === "number" && v > 0 && Number.isFinite(v), expected: "a finite number > 0" },
  sigmaMin: { ok: (v) => typeof v === "number" && v > 0 && Number.isFinite(v), expected: "a finite number > 0" },
  tMin: { ok: (v) => typeof v === "number" && v > 0 && Number.isFinite(v), expected: "a finite number > 0" },
  delta: { ok: (v) => typeof v === "number" && v > 0 && Number.isFinite(v), expected: "a finite number > 0" },
  repeats: { ok: (v) => Number.isInteger(v) && (v as number) >= 1, expected: "an integer >= 1" },
  anneal: { ok: (v) => typeof v === "number" && v > 0 && v <= 1, expected: "a number in (0, 1]" },
  denoiseSteps: { ok: (v) => Number.isInteger(v) && (v as number) >= 0, expected: "an integer >= 0" },
  denoise: { ok: (v) => typeof v === "boolean", expected: "true or false" },
  sChurn: { ok: (v) => typeof v === "number" && v >= 0 && Number.isFinite(v), expected: "a finite number >= 0" },
  sTmin: { ok: (v) => typeof v === "number" && v >= 0 && Number.isFinite(v), expected: "a finite number >= 0" },
  sTmax: { ok: (v) => typeof v === "number" && v >= 0 && Number.isFinite(v), expected: "a finite number >= 0" },
  sNoise: { ok: (v) => typeof v === "number" && v >= 0 && Number.isFinite(v), expected: "a finite number >= 0" },
  eta: { ok: (v) => typeof v === "number" && v >= 0 && Number.isFinite(v), expected: "a finite number >= 0" },
};

/**
 * Checks a {@link SamplerChoice} read from a file or a command line: a sampler of the catalogue and a schedule whose
 * fields are those of `SamplerSchedule` with valid values, each one the sampler reads (its entry's `scheduleOptions`).
 * Errors start with `where` and name the field.
 *
 * @example
 * checkSamplerChoice({ sampler: "edm-stochastic", schedule: { steps: 25, sChurn: 40 } }, "checkpoint.json extra.sampling");
 */
export function checkSamplerChoice(value: unknown, where: string): SamplerChoice {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${where} must be an object { sampler, schedule }, got ${JSON.stringify(value)}.`);
  const { sampler, schedule, guidance, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`${where} has unknown fields ${extra.join(", ")}; expected { sampler, schedule, guidance? }.`);
  if (typeof sampler !== "string" || !isSamplerName(sampler)) throw new Error(`${where}.sampler must be one of ${SAMPLER_NAMES.join(", ")}, got ${JSON.stringify(sampler)}.`);
  if (typeof schedule !== "object" || schedule === null || Array.isArray(schedule)) throw new Error(`${where}.schedule must be an object { steps, ... }, got ${JSON.stringify(schedule)}.`);
  const reads = samplerCatalogue[sampler].scheduleOptions as readonly string[];
  for (const [key, v] of Object.entries(schedule)) {
    const field = SCHEDULE_FIELDS[key as keyof SamplerSchedule];
    if (field === undefined) throw new Error(`${where}.schedule.${key} is not a schedule field (${Object.keys(SCHEDULE_FIELDS).join(", ")}).`);
    if (!reads.includes(key)) throw new Error(`${where}.schedule.${key}: the ${sampler} sampler does not read it (it reads ${reads.join(", ")}).`);
    if (!field.ok(v)) throw new Error(`${where}.schedule.${key} must be ${field.expected}, got ${JSON.stringify(v)}.`);
  }
  if ((schedule as { steps?: unknown }).steps === undefined) throw new Error(`${where}.schedule.steps is missing.`);
  if (guidance === undefined) return { sampler, schedule: { ...(schedule as SamplerSchedule) } };
  if (!isSolver(sampler)) throw new Error(`${where}.guidance: autoguidance combines denoisers, which only the solvers (${SOLVER_NAMES.join(", ")}) take, not ${sampler}.`);
  if (typeof guidance !== "object" || guidance === null || Array.isArray(guidance)) throw new Error(`${where}.guidance must be an object { checkpoint, weight }, got ${JSON.stringify(guidance)}.`);
  const { checkpoint, weight, ...more } = guidance as Record<string, unknown>;
  if (Object.keys(more).length > 0) throw new Error(`${where}.guidance has unknown fields ${Object.keys(more).join(", ")}; expected { checkpoint, weight }.`);
  if (typeof checkpoint !== "string" || !isInsidePath(checkpoint)) {
    throw new Error(`${where}.guidance.checkpoint must be a relative folder inside the checkpoint's (plain names joined by /, no . or ..), got ${JSON.stringify(checkpoint)}.`);
  }
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) throw new Error(`${where}.guidance.weight must be a finite number >= 0, got ${JSON.stringify(weight)}.`);
  return { sampler, schedule: { ...(schedule as SamplerSchedule) }, guidance: { checkpoint, weight } };
}
