// The stochastic solvers' settings as command-line flags, shared by dale-sample (to sample with them) and dale-export
// (to record them as the checkpoint's recommended sampler). --nfe becomes steps through stepsWithinBudget of
// @dale/samplers, which counts both networks of a guided evaluation.
import { num } from "@dale/cli-kit";
import type { Command } from "commander";
import type { SamplerName, SamplerSchedule } from "@dale/samplers";

export interface SolverFlags {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  eta?: number;
}

/** Adds --s-churn, --s-tmin, --s-tmax, --s-noise (edm-stochastic) and --eta (dpmpp-2m-sde) to a command. */
export function addSolverFlags(command: Command): Command {
  return command
    .option("--s-churn <c>", "edm-stochastic: the overall churn S_churn (default 40)", num("--s-churn", (v) => v >= 0, "a number >= 0"))
    .option("--s-tmin <s>", "edm-stochastic: churn only at noise levels >= this (default 0.05)", num("--s-tmin", (v) => v >= 0, "a number >= 0"))
    .option("--s-tmax <s>", "edm-stochastic: churn only at noise levels <= this (default sigma(T) / sqrt(2))", num("--s-tmax", (v) => v >= 0, "a number >= 0"))
    .option("--s-noise <k>", "edm-stochastic: factor on the churn's noise (default 1)", num("--s-noise", (v) => v >= 0, "a number >= 0"))
    .option("--eta <e>", "dpmpp-2m-sde: stochasticity (default 1; 0 is dpmpp-2m)", num("--eta", (v) => v >= 0, "a number >= 0"));
}

/** The schedule fields the flags set, checked against the sampler; errors name the flags. */
export function solverSettings(o: SolverFlags, sampler: SamplerName): Partial<SamplerSchedule> {
  const churn = { sChurn: o.sChurn, sTmin: o.sTmin, sTmax: o.sTmax, sNoise: o.sNoise };
  const out: Partial<SamplerSchedule> = {};
  if (Object.values(churn).some((v) => v !== undefined) && sampler !== "edm-stochastic") throw new Error(`--s-churn, --s-tmin, --s-tmax and --s-noise apply to edm-stochastic, not ${sampler}.`);
  if (o.sTmin !== undefined && o.sTmax !== undefined && o.sTmax < o.sTmin) throw new Error(`--s-tmax (${o.sTmax}) must be at least --s-tmin (${o.sTmin}).`);
  for (const [key, v] of Object.entries(churn)) if (v !== undefined) out[key as keyof typeof churn] = v;
  if (o.eta !== undefined) {
    if (sampler !== "dpmpp-2m-sde") throw new Error(`--eta applies to dpmpp-2m-sde, not ${sampler}.`);
    out.eta = o.eta;
  }
  return out;
}
