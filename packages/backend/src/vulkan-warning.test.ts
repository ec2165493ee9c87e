// initBackend in Node does not load Dawn (and so does not print its three-line "Couldn't load Vulkan" warning) on a
// Linux machine without a Vulkan loader, unless WebGPU is asked for (issue 16).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { vulkanDriverManifests, vulkanLoaderPath } from "./init";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/** Runs f with VK_ICD_FILENAMES and VK_DRIVER_FILES unset, as the child processes below see them. */
async function withoutIcdEnv<T>(f: () => Promise<T>): Promise<T> {
  const saved = [process.env.VK_ICD_FILENAMES, process.env.VK_DRIVER_FILES];
  delete process.env.VK_ICD_FILENAMES;
  delete process.env.VK_DRIVER_FILES;
  try {
    return await f();
  } finally {
    if (saved[0] !== undefined) process.env.VK_ICD_FILENAMES = saved[0];
    if (saved[1] !== undefined) process.env.VK_DRIVER_FILES = saved[1];
  }
}

describe("initBackend and Vulkan", () => {
  it("finds the Vulkan driver manifests where the loader looks, and none in an empty tree", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const root = mkdtempSync(join(tmpdir(), "dale-vk-"));
    const keys = ["XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_HOME", "XDG_DATA_DIRS", "HOME"] as const;
    const saved = keys.map((k) => process.env[k]);
    try {
      for (const k of keys) process.env[k] = join(root, k);
      const manifests = await withoutIcdEnv(vulkanDriverManifests);
      // /etc/vulkan/icd.d is always searched; only this machine's own drivers may appear.
      expect(Array.isArray(manifests) && manifests.every((m) => m.startsWith("/etc/vulkan/icd.d/"))).toBe(true);
      mkdirSync(join(root, "XDG_DATA_DIRS", "vulkan", "icd.d"), { recursive: true });
      writeFileSync(join(root, "XDG_DATA_DIRS", "vulkan", "icd.d", "swiftshader.json"), "{}");
      expect(await withoutIcdEnv(vulkanDriverManifests)).toContain(join(root, "XDG_DATA_DIRS", "vulkan", "icd.d", "swiftshader.json"));
      process.env.VK_DRIVER_FILES = "/x.json";
      expect(await vulkanDriverManifests()).toBe("");
      delete process.env.VK_DRIVER_FILES;
    } finally {
      keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("skips WebGPU quietly without a Vulkan loader, and says why", async () => {
    const loader = await vulkanLoaderPath();
    const env = { ...process.env, VK_ICD_FILENAMES: "", DALE_BACKEND: "" };
    const script = `const { initBackend } = await import(${JSON.stringify(dist)}); const c = await initBackend(); console.log(JSON.stringify(c));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const choice = JSON.parse(out.trim().split("\n").pop() as string) as { backend: string; skipped: { name: string; reason: string }[] };
    const webgpu = choice.skipped.find((s) => s.name === "webgpu");
    const drivers = await withoutIcdEnv(vulkanDriverManifests);
    if (loader === null) {
      expect(webgpu?.reason).toMatch(/^no Vulkan loader \(libvulkan\.so\.1\) on this Linux machine/);
    } else if (Array.isArray(drivers) && drivers.length === 0) {
      expect(webgpu?.reason).toMatch(/^a Vulkan loader but no Vulkan driver \(no ICD manifest in any vulkan\/icd\.d folder\)/);
    } else {
      // A machine with a Vulkan loader tries Dawn as before.
      expect(webgpu?.reason ?? "").not.toMatch(/no Vulkan loader/);
    }
  });

  it("prints no Vulkan warning on stderr when it skips", async () => {
    const drivers = await withoutIcdEnv(vulkanDriverManifests);
    if ((await vulkanLoaderPath()) !== null && !(Array.isArray(drivers) && drivers.length === 0)) return; // only meaningful without a loader or a driver
    const script = `const { initBackend } = await import(${JSON.stringify(dist)}); await initBackend();`;
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, VK_ICD_FILENAMES: "", DALE_BACKEND: "" }, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Couldn't load Vulkan/);
  });
});
