// The sigma-space solvers: one file per solver, the shared loop in integrate.ts, the catalogue in catalogue.ts.
export type { Denoiser, SolverInfo, SolverOptions } from "./types";
export { karrasSigmas } from "./karras-sigmas";
export { euler } from "./euler";
export { heun } from "./heun";
export { edmStochastic, type EdmStochasticOptions } from "./edm-stochastic";
export { dpmpp2m } from "./dpmpp-2m";
export { dpmpp2mSde, type Dpmpp2mSdeOptions } from "./dpmpp-2m-sde";
export { solvers, SOLVER_NAMES, type SolverName, type SolverOptionsByName, type SolverEntry } from "./catalogue";
