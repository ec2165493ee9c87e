import type { VESDE, VPSDE } from "./additive";
import type { GBM } from "./gbm";

/**
 * The processes of this package as a union discriminated by `kind`, what `sdeFromJSON` returns: narrow with
 * `sde.kind === "gbm"` or an exhaustive `switch (sde.kind)` instead of casting. Write your own process against
 * `SDE` (types.ts).
 *
 * @example
 * const sde = sdeFromJSON(json);
 * if (sde.kind === "gbm") sde.logVariance(1); // sde: GBM here
 */
export type AnySDE = GBM | VPSDE | VESDE;
