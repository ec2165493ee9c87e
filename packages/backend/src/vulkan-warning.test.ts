// initBackend in Node does not load Dawn (and so does not print its three-line "Couldn't load Vulkan" warning) on a
// Linux machine without a Vulkan loader, unless WebGPU is asked for (issue 16).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { vulkanLoaderPath } from "./init";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("initBackend and Vulkan", () => {
  it("skips WebGPU quietly without a Vulkan loader, and says why", async () => {
    const loader = await vulkanLoaderPath();
    const env = { ...process.env, VK_ICD_FILENAMES: "", DALE_BACKEND: "" };
    const script = `const { initBackend } = await import(${JSON.stringify(dist)}); const c = await initBackend(); console.log(JSON.stringify(c));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const choice = JSON.parse(out.trim().split("\n").pop() as string) as { backend: string; skipped: { name: string; reason: string }[] };
    const webgpu = choice.skipped.find((s) => s.name === "webgpu");
    if (loader === null) {
      expect(webgpu?.reason).toMatch(/^no Vulkan loader \(libvulkan\.so\.1\) on this Linux machine/);
    } else {
      // A machine with a Vulkan loader tries Dawn as before.
      expect(webgpu?.reason ?? "").not.toMatch(/no Vulkan loader/);
    }
  });

  it("prints no Vulkan warning on stderr when it skips", async () => {
    if ((await vulkanLoaderPath()) !== null) return; // only meaningful without a loader
    const script = `const { initBackend } = await import(${JSON.stringify(dist)}); await initBackend();`;
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, VK_ICD_FILENAMES: "", DALE_BACKEND: "" }, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Couldn't load Vulkan/);
  });
});
