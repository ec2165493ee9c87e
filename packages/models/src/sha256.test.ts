// The checkpoint files' sha256: WebCrypto where it exists, @noble/hashes where it does not (a browser page on plain
// http at a LAN address has no crypto.subtle). Both must give node:crypto's digest.
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "./checkpoint";

const node = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const inputs = [new Uint8Array(0), new TextEncoder().encode("abc"), Uint8Array.from({ length: 1_000_003 }, (_, i) => (i * 2654435761) >>> 24)];

describe("sha256Hex", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("gives node:crypto's digest with WebCrypto, and the FIPS 180-2 value of 'abc'", async () => {
    expect(await sha256Hex(inputs[1] as Uint8Array)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    for (const b of inputs) expect(await sha256Hex(b)).toBe(node(b));
  });

  it("gives the same digests without crypto.subtle, as on an http page that is not localhost", async () => {
    vi.stubGlobal("crypto", {});
    expect((globalThis as { crypto?: { subtle?: unknown } }).crypto?.subtle).toBeUndefined();
    for (const b of inputs) expect(await sha256Hex(b)).toBe(node(b));
  });

  it("names a non-byte argument", async () => {
    await expect(sha256Hex("abc" as unknown as Uint8Array, "readCheckpoint")).rejects.toThrow("readCheckpoint: bytes must be a Uint8Array, got string.");
  });
});
