// Installing only @dale/samplers must work: pack it and the workspace packages it depends on, install the tarballs
// with @tensorflow/tfjs-core and one backend into an empty folder outside the workspace, and sample there from a
// plain script (ESM and CommonJS) with a score function written by hand.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, "../..");
const folder = mkdtempSync(join(tmpdir(), "dale-standalone-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// pnpm rewrites `workspace:` ranges to real versions when it packs; npm would not.
const pnpm = process.env.npm_execpath?.includes("pnpm") ? [process.execPath, process.env.npm_execpath] : ["pnpm"];
const run = (cmd: string[], cwd: string) =>
  execFileSync(cmd[0] as string, cmd.slice(1), { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const SCRIPT_BODY = `
await tf.setBackend("cpu");
const sde = gbm(); // sigma 0.8, mu 0.32, T 1
// Data: log X_0 ~ N(0.2, 0.3^2). At time t, log X_t ~ N(0.2 + m(t), 0.09 + v(t)), so the Stein score is
// (-1 - (log x - 0.2 - m(t)) / (0.09 + v(t))) / x. Written by hand: no Dale helper involved.
const score = (x, t) => tf.tidy(() => {
  const v = 0.09 + sde.logVariance(t);
  const m = 0.2 + sde.logMean(t);
  return tf.div(tf.sub(-1, tf.div(tf.sub(tf.log(x), m), v)), x);
});
const xT = tf.exp(tf.add(0.2, tf.mul(Math.sqrt(0.09 + 0.64), tf.randomNormal([4000, 1], 0, 1, "float32", 1))));
const x0 = await daleLangevin(score, xT, { sde, steps: 200, seed: 0 });
const y = tf.log(x0);
const { mean, variance } = tf.moments(y);
console.log(JSON.stringify({ mean: mean.dataSync()[0], std: Math.sqrt(variance.dataSync()[0]), min: tf.min(x0).dataSync()[0] }));
`;

it("installs from tarballs into an empty folder and samples from a plain script", { timeout: 300_000 }, () => {
  // Its dependency closure: @dale/scores and @dale/sde, and @dale/random under @dale/sde.
  const closure = ["random", "sde", "scores", "samplers"];
  for (const pkg of closure) run([...pnpm, "pack", "--pack-destination", folder], join(packages, pkg));
  const tarballs = readdirSync(folder).filter((f) => f.endsWith(".tgz"));
  expect(tarballs).toHaveLength(closure.length);
  writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "standalone", private: true }));
  run(
    [
      "npm",
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      ...tarballs.map((t) => `./${t}`),
      "@tensorflow/tfjs-core@4.22.0",
      "@tensorflow/tfjs-backend-cpu@4.22.0",
    ],
    folder,
  );
  writeFileSync(
    join(folder, "sample.mjs"),
    `import * as tf from "@tensorflow/tfjs-core";\nimport "@tensorflow/tfjs-backend-cpu";\n` +
      `import { daleLangevin, gbm } from "@dale/samplers";\n${SCRIPT_BODY}`,
  );
  writeFileSync(
    join(folder, "sample.cjs"),
    `const tf = require("@tensorflow/tfjs-core");\nrequire("@tensorflow/tfjs-backend-cpu");\n` +
      `const { daleLangevin, gbm } = require("@dale/samplers");\n(async () => {${SCRIPT_BODY}})();`,
  );
  for (const script of ["sample.mjs", "sample.cjs"]) {
    const out = run([process.execPath, script], folder).trim().split("\n").at(-1) as string;
    const { mean, std, min } = JSON.parse(out) as { mean: number; std: number; min: number };
    // The data's log-moments are 0.2 and 0.3; 4000 samples and 200 steps land within a few hundredths.
    expect(Math.abs(mean - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(std - 0.3)).toBeLessThan(0.03);
    expect(min).toBeGreaterThan(0);
  }
});
