import { veSDE, vpFromJSON } from "./additive";
import { gbmFromJSON } from "./gbm";
import type { SDE, SDEJSON } from "./types";

/** Rebuilds any SDE from its `toJSON()` (an exhaustive switch over the kinds). */
export function sdeFromJSON(json: SDEJSON): SDE {
  switch (json.kind) {
    case "gbm":
      return gbmFromJSON(json);
    case "vp":
      return vpFromJSON(json);
    case "ve":
      return veSDE({ sigmaMin: json.sigmaMin, sigmaMax: json.sigmaMax, T: json.T });
  }
}
