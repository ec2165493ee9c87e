import { describe, expect, it, vi } from "vitest";

// As in a bundle without resvg's native binding (the GPU machine's): importing resvg throws.
vi.mock("@resvg/resvg-js", () => {
  throw new Error("no native binding for resvg");
});

describe("renderPng without resvg", () => {
  it("leaves the rest of the kit usable and rejects, so that the caller can skip the plot", async () => {
    const kit = await import("./index");
    expect(kit.int("--steps", 1)("3")).toBe(3);
    const error = await kit.renderPng({ mark: "point", data: { values: [] } }).then(
      () => null,
      (e: unknown) => e,
    );
    // vitest wraps the factory's error in its own, with the original as the cause.
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).cause)).toMatch(/no native binding for resvg/);
  });
});
