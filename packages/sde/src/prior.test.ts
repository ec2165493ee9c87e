import { describe, expect, it } from "vitest";
import { sdeFromJSON } from "./json";
import { gbm } from "./gbm";
import { lognormalPrior, priorFromJSON } from "./prior";

describe("priors from JSON (a checkpoint's stored process)", () => {
  it("refuses null, strings, NaN and infinities in loc and scale instead of reading them as numbers", () => {
    const good = lognormalPrior({ loc: [0.1, 0.2], scale: [0.5, 0.6], shape: [2] }).toJSON();
    expect(() => priorFromJSON(good)).not.toThrow();
    const bad: [string, unknown][] = [
      ["loc", [null, 0.2]],
      ["loc", ["0.1", 0.2]],
      ["loc", null],
      ["scale", [0.5, Number.POSITIVE_INFINITY]],
      ["loc", [Number.NaN, 0.2]],
      ["loc", "0.1"],
    ];
    for (const [arg, value] of bad) {
      expect(() => priorFromJSON({ ...good, [arg]: value } as never)).toThrow(new RegExp(`^lognormalPrior: ${arg} must be (finite everywhere|a finite number or an array of 2)`));
    }
  });

  it("refuses a shape that is not an array of positive integers, naming the prior (found by the checkpoint fuzz)", () => {
    const good = lognormalPrior({ loc: [0.1, 0.2], scale: [0.5, 0.6], shape: [2] }).toJSON();
    for (const shape of [{}, "2", [2.5], [0], [-2], [null], null]) {
      expect(() => priorFromJSON({ ...good, shape } as never)).toThrow(/^lognormalPrior: shape must be an array of positive integers \(the trailing axes that loc and scale cover\), got /);
    }
    expect(priorFromJSON({ ...good, shape: [2] } as never).family).toBe("lognormal");
  });

  it("an edited checkpoint process with a null prior location is an error, not a prior at 0", () => {
    const json = gbm().withPrior(lognormalPrior({ loc: 0.4, scale: 0.9 })).toJSON() as unknown as Record<string, unknown>;
    const prior = json.prior as Record<string, unknown>;
    expect(() => sdeFromJSON({ ...json, prior: { ...prior, loc: [null] } } as never)).toThrow(/lognormalPrior: loc must be finite everywhere, got null at index 0/);
  });
});
