import { veSDE, vpFromJSON } from "./additive";
import { gbmFromJSON } from "./gbm";
import type { AnySDE } from "./any-sde";
import type { SDEJSON } from "./types";
import { assertOneOf } from "./util";

/**
 * Rebuilds any SDE from its `toJSON()` (an exhaustive switch over the kinds). The result is the union
 * {@link AnySDE}, so that narrowing on `kind` reaches each process's own members without a cast.
 *
 * @example
 * const sde = sdeFromJSON(JSON.parse(text));
 * const v = sde.kind === "gbm" ? sde.logVariance(sde.T) : sde.marginalStd(sde.T) ** 2;
 */
export function sdeFromJSON(json: SDEJSON): AnySDE {
  assertOneOf(json?.kind, ["gbm", "vp", "ve"], "sdeFromJSON", "kind");
  switch (json.kind) {
    case "gbm":
      return gbmFromJSON(json);
    case "vp":
      return vpFromJSON(json);
    case "ve":
      return veSDE({ sigmaMin: json.sigmaMin, sigmaMax: json.sigmaMax, T: json.T });
  }
}
