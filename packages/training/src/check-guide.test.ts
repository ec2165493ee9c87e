import { describe, expect, it } from "vitest";
import type { TrainerExtra } from "./config";
import { checkGuide } from "./open-checkpoint";

// checkGuide reads extra.sde, extra.transform and extra.data's shape; the rest of a TrainerExtra plays no part.
const extra = (over: { sde?: unknown; transform?: unknown; height?: number; channels?: number } = {}) =>
  ({
    sde: over.sde ?? { kind: "gbm", sigma: 1 },
    transform: over.transform ?? { kind: "shift", offset: 1 },
    data: { height: over.height ?? 28, width: 28, channels: over.channels ?? 1 },
  }) as unknown as TrainerExtra;
const main = { dir: "/runs/main", extra: extra() };

describe("checkGuide", () => {
  it("accepts a guide of the same process, transform and shape", () => {
    expect(() => checkGuide(main, { dir: "/runs/early", extra: extra() })).not.toThrow();
  });

  it("refuses another process, transform or shape, naming both folders", () => {
    expect(() => checkGuide(main, { dir: "/runs/vp", extra: extra({ sde: { kind: "vp" } }) })).toThrow(
      /checkGuide: the guide \/runs\/vp has another process \(extra\.sde\) than \/runs\/main; autoguidance needs a weaker model/,
    );
    expect(() => checkGuide(main, { dir: "/g", extra: extra({ transform: { kind: "shift", offset: 2 } }) })).toThrow(/another pixel transform than \/runs\/main/);
    expect(() => checkGuide(main, { dir: "/g", extra: extra({ height: 32 }) })).toThrow(/another image shape/);
    expect(() => checkGuide(main, { dir: "/g", extra: extra({ channels: 3 }) })).toThrow(/another image shape/);
  });
});
