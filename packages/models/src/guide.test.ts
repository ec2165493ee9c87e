import { describe, expect, it } from "vitest";
import { guideMismatch, type GuideFacts } from "./guide";

const main: GuideFacts = {
  sde: { kind: "gbm", sigma: 1, prior: { kind: "log-normal", loc: [0], scale: [1] } },
  transform: { kind: "shift", offset: 1 },
  shape: [28, 28, 1],
};

describe("guideMismatch", () => {
  it("accepts the same facts, whatever the key order", () => {
    expect(guideMismatch(main, structuredClone(main))).toBeUndefined();
    const reordered: GuideFacts = { shape: [28, 28, 1], transform: { offset: 1, kind: "shift" }, sde: { prior: { scale: [1], loc: [0], kind: "log-normal" }, sigma: 1, kind: "gbm" } };
    expect(guideMismatch(main, reordered)).toBeUndefined();
  });

  it("names the first thing that differs", () => {
    expect(guideMismatch(main, { ...main, sde: { ...(main.sde as object), sigma: 2 } })).toBe("process (extra.sde)");
    expect(guideMismatch(main, { ...main, sde: { kind: "gbm", sigma: 1, prior: { kind: "log-normal", loc: [0.5], scale: [1] } } })).toBe("process (extra.sde)");
    expect(guideMismatch(main, { ...main, transform: { kind: "shift", offset: 2 } })).toBe("pixel transform");
    expect(guideMismatch(main, { ...main, shape: [32, 32, 3] })).toBe("image shape");
    expect(guideMismatch(main, { ...main, shape: [28, 28] })).toBe("image shape");
    // An extra key is a difference, a key set to undefined is not.
    expect(guideMismatch(main, { ...main, transform: { kind: "shift", offset: 1, scale: 2 } })).toBe("pixel transform");
    expect(guideMismatch(main, { ...main, transform: { kind: "shift", offset: 1, scale: undefined } })).toBeUndefined();
    // Arrays against objects with the same entries differ.
    expect(guideMismatch(main, { ...main, shape: { 0: 28, 1: 28, 2: 1 } as unknown as number[] })).toBe("image shape");
  });
});
