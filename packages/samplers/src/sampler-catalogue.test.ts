import * as tf from "@tensorflow/tfjs-core";
import { gbm, veSDE, vpSDE, type AnySDE } from "@dale/sde";
import { gaussianMixtureScore, lognormalMixtureScore } from "@dale/scores";
import { describe, expect, it } from "vitest";
import {
  checkSampler,
  checkSamplerChoice,
  daleLangevin,
  DEFAULT_SOLVER,
  defaultSampler,
  denoiserFromScore,
  eulerMaruyama,
  isSamplerName,
  isSolver,
  predictorCorrector,
  probabilityFlow,
  REFERENCE_SAMPLER_NAMES,
  runSampler,
  SAMPLER_NAMES,
  samplerCatalogue,
  samplerNfe,
  signAgnostic,
  solveProcess,
  SOLVER_NAMES,
  solvers,
  stepsForNfe,
  stepsWithinBudget,
  type SamplerName,
  type SamplerSchedule,
} from "./index";

describe("the sampler catalogue", () => {
  it("lists the reference samplers, then every solver, each entry under its own name", () => {
    expect(SAMPLER_NAMES).toEqual([
      "dale-langevin",
      "sign-agnostic",
      "probability-flow",
      "euler-maruyama",
      "predictor-corrector",
      "euler",
      "heun",
      "edm-stochastic",
      "dpmpp-2m",
      "dpmpp-2m-sde",
    ]);
    expect(Object.keys(samplerCatalogue)).toEqual([...SAMPLER_NAMES]);
    for (const name of SAMPLER_NAMES) {
      const entry = samplerCatalogue[name];
      expect(entry.name).toBe(name);
      expect(entry.kind).toBe(isSolver(name) ? "solver" : "reference");
      // Every citation resolves: an arXiv id, or a section of docs/method.md.
      expect(entry.reference).toMatch(/arXiv \d{4}\.\d{5}|docs\/method\.md, section \d/);
      expect(entry.scheduleOptions).toContain("steps");
    }
    expect(SAMPLER_NAMES.filter((n) => samplerCatalogue[n].family === "multiplicative")).toEqual(["dale-langevin", "sign-agnostic", "probability-flow"]);
    expect(SAMPLER_NAMES.filter((n) => samplerCatalogue[n].family === "additive")).toEqual(["euler-maruyama", "predictor-corrector"]);
    expect(SAMPLER_NAMES.filter((n) => samplerCatalogue[n].family === "any")).toEqual([...SOLVER_NAMES]);
    expect(SAMPLER_NAMES.filter((n) => !samplerCatalogue[n].stochastic)).toEqual(["probability-flow", "euler", "heun", "dpmpp-2m"]);
    for (const name of SOLVER_NAMES) {
      expect(samplerCatalogue[name]).toMatchObject({ stochastic: solvers[name].stochastic, reference: solvers[name].reference, nfePerStep: solvers[name].nfePerStep });
    }
  });

  it("names, solvers and defaults", () => {
    expect(isSamplerName("heun")).toBe(true);
    expect(isSamplerName("ddim")).toBe(false);
    expect(REFERENCE_SAMPLER_NAMES.some((n) => isSolver(n))).toBe(false);
    expect(SOLVER_NAMES.every((n) => isSolver(n))).toBe(true);
    expect(DEFAULT_SOLVER).toEqual({ sampler: "heun", steps: 18 });
    expect(Object.isFrozen(DEFAULT_SOLVER)).toBe(true);
    expect(defaultSampler(gbm(), "denoiser")).toBe("heun");
    expect(defaultSampler(vpSDE(), "denoiser")).toBe("heun");
    expect(defaultSampler(gbm())).toBe("dale-langevin");
    expect(defaultSampler(gbm(), "stein")).toBe("dale-langevin");
    expect(defaultSampler(veSDE(), "stein")).toBe("euler-maruyama");
  });
});

describe("network evaluations", () => {
  const at = (schedule: SamplerSchedule) => Object.fromEntries(SAMPLER_NAMES.map((n) => [n, samplerNfe(n, schedule)]));

  it("per sampler: one per update, two per Heun step but one on the last, two per predictor-corrector level", () => {
    expect(at({ steps: 10 })).toEqual({
      "dale-langevin": 10,
      "sign-agnostic": 10,
      "probability-flow": 19,
      "euler-maruyama": 10,
      "predictor-corrector": 20,
      euler: 10,
      heun: 19,
      "edm-stochastic": 19,
      "dpmpp-2m": 10,
      "dpmpp-2m-sde": 10,
    });
    // The reference schedule (CIFAR-10's: 6 repeats, 25 noise-free steps) counts for the samplers that read it.
    const reference = { steps: 1000, repeats: 6, denoiseSteps: 25, delta: 1e-4, anneal: 0.9995 };
    expect(at(reference)).toMatchObject({ "dale-langevin": 6025, "sign-agnostic": 6025, "probability-flow": 1999, "euler-maruyama": 1000, "predictor-corrector": 2000, heun: 1999 });
    expect(samplerNfe("heun", { steps: 1 })).toBe(1);
    expect(samplerNfe("probability-flow", { steps: 1 })).toBe(1);
  });

  it("stepsForNfe is the inverse of samplerNfe: exact at every reachable NFE, the most steps that fit otherwise", () => {
    for (const name of SAMPLER_NAMES) {
      for (let steps = 1; steps <= 40; steps++) expect(stepsForNfe(name, samplerNfe(name, { steps })), `${name}, ${steps} steps`).toBe(steps);
      for (let nfe = 1; nfe <= 60; nfe++) {
        const steps = stepsForNfe(name, nfe);
        if (steps > 0) expect(samplerNfe(name, { steps }), `${name} at NFE ${nfe}`).toBeLessThanOrEqual(nfe);
        expect(samplerNfe(name, { steps: steps + 1 }), `${name} at NFE ${nfe}`).toBeGreaterThan(nfe);
      }
    }
    expect(stepsForNfe("predictor-corrector", 1)).toBe(0);
    expect(stepsForNfe("heun", 35)).toBe(18);
    expect(stepsForNfe("probability-flow", 20)).toBe(10);
  });

  it("stepsWithinBudget counts every network of a guided evaluation and refuses a budget without one step", () => {
    for (const name of SAMPLER_NAMES) {
      for (const networks of [1, 2, 3]) {
        for (let nfe = 1; nfe <= 60; nfe++) {
          const one = networks * samplerNfe(name, { steps: 1 });
          if (nfe < one) {
            expect(() => stepsWithinBudget(name, nfe, { networks, caller: "here" }), `${name} x${networks} at ${nfe}`).toThrow(/^here: a budget of NFE \d+ is too small for .*: one step takes \d+\.$/);
            continue;
          }
          const steps = stepsWithinBudget(name, nfe, { networks });
          // The most steps whose evaluations, counted over every network, fit the budget.
          expect(networks * samplerNfe(name, { steps }), `${name} x${networks} at ${nfe}`).toBeLessThanOrEqual(nfe);
          expect(networks * samplerNfe(name, { steps: steps + 1 }), `${name} x${networks} at ${nfe}`).toBeGreaterThan(nfe);
        }
      }
    }
    // checkpoints/mnist-gbm's recommendation: edm-stochastic, 13 steps, autoguided, NFE 50.
    expect(stepsWithinBudget("edm-stochastic", 50, { networks: 2 })).toBe(13);
    expect(() => stepsWithinBudget("heun", 1, { networks: 2 })).toThrow("stepsWithinBudget: a budget of NFE 1 is too small for heun with 2 networks per evaluation (autoguidance): one step takes 2.");
    expect(() => stepsWithinBudget("heun", 10, { networks: 0 })).toThrow(/stepsWithinBudget: networks must be an integer/);
    expect(() => stepsWithinBudget("heun", 2.5)).toThrow(/stepsWithinBudget: nfe must be an integer/);
  });

  it("rejects bad input, naming the function and the argument", () => {
    expect(() => samplerNfe("heun", { steps: 0 })).toThrow(/^samplerNfe: schedule\.steps must be an integer >= 1, got 0\.$/);
    expect(() => samplerNfe("dale-langevin", { steps: 10, repeats: 1.5 })).toThrow(/^samplerNfe: schedule\.repeats must be an integer >= 1, got 1\.5\.$/);
    // @ts-expect-error not a sampler
    expect(() => samplerNfe("ddim", { steps: 10 })).toThrow(/^samplerNfe: name must be one of "dale-langevin", .*"dpmpp-2m-sde", got "ddim"\.$/);
    // @ts-expect-error no schedule
    expect(() => samplerNfe("heun", undefined)).toThrow(/^samplerNfe: schedule must be an object/);
    expect(() => stepsForNfe("heun", 0)).toThrow(/^stepsForNfe: nfe must be an integer >= 1, got 0\.$/);
    expect(() => stepsForNfe("euler", 2.5)).toThrow(/^stepsForNfe: nfe must be an integer >= 1, got 2\.5\.$/);
    // @ts-expect-error not a sampler
    expect(() => stepsForNfe("Heun", 10)).toThrow(/^stepsForNfe: name must be one of .*got "Heun"\.$/);
  });
});

describe("checkSampler", () => {
  it("lets every sampler run on the processes of its family, the solvers on all", () => {
    for (const sde of [gbm(), vpSDE(), veSDE()]) {
      for (const name of SAMPLER_NAMES) {
        const { family } = samplerCatalogue[name];
        const fits = family === "any" || (family === "multiplicative") === (sde.kind === "gbm");
        if (fits) expect(() => checkSampler(name, sde)).not.toThrow();
        else expect(() => checkSampler(name, sde)).toThrow(new RegExp(`^checkSampler: the ${name} sampler is for`));
      }
    }
  });

  it("names the sampler, the process and the samplers that fit", () => {
    expect(() => checkSampler("dale-langevin", vpSDE())).toThrow(
      /^checkSampler: the dale-langevin sampler is for multiplicative \(GBM\) diffusion, but the score was trained with the additive vp process; use euler-maruyama, predictor-corrector or a solver \(euler, heun, edm-stochastic, dpmpp-2m, dpmpp-2m-sde\)\.$/,
    );
    expect(() => checkSampler("probability-flow", veSDE())).toThrow(/the probability-flow sampler .* the additive ve process/);
    expect(() => checkSampler("predictor-corrector", gbm())).toThrow(
      /^checkSampler: the predictor-corrector sampler is for additive \(VP\/VE\) diffusion, but the score was trained with GBM, a multiplicative process; use dale-langevin, sign-agnostic, probability-flow or a solver \(euler, .*\)\.$/,
    );
    // @ts-expect-error not a sampler
    expect(() => checkSampler("ddpm", gbm())).toThrow(/^checkSampler: sampler must be one of .*got "ddpm"\.$/);
    // @ts-expect-error not a process
    expect(() => checkSampler("heun", { kind: "subvp" })).toThrow(/^checkSampler: sde\.kind must be one of "gbm", "vp", "ve", got "subvp"\.$/);
  });
});

describe("checkSamplerChoice", () => {
  it("accepts a sampler with the schedule fields it reads, and copies the schedule", () => {
    const schedule = { steps: 25, sChurn: 40, sTmin: 0.01, sNoise: 1.003, rho: 7 };
    const choice = checkSamplerChoice({ sampler: "edm-stochastic", schedule }, "x");
    expect(choice).toEqual({ sampler: "edm-stochastic", schedule });
    expect(choice.schedule).not.toBe(schedule);
    expect(checkSamplerChoice({ sampler: "dale-langevin", schedule: { steps: 1000, grid: "uniform", repeats: 2, denoise: false, anneal: 1 } }, "x").sampler).toBe("dale-langevin");
    expect(checkSamplerChoice({ sampler: "dpmpp-2m-sde", schedule: { steps: 20, eta: 0.5 } }, "x").schedule.eta).toBe(0.5);
  });

  it("names the field and what it must be", () => {
    const check = (v: unknown) => () => checkSamplerChoice(v, "ckpt extra.sampling");
    expect(check(null)).toThrow(/^ckpt extra\.sampling must be an object \{ sampler, schedule \}, got null\.$/);
    expect(check({ sampler: "heun", schedule: { steps: 5 }, note: 1 })).toThrow(/has unknown fields note/);
    expect(check({ sampler: "ddim", schedule: { steps: 5 } })).toThrow(/^ckpt extra\.sampling\.sampler must be one of dale-langevin, .*got "ddim"\.$/);
    expect(check({ sampler: "heun" })).toThrow(/\.schedule must be an object/);
    expect(check({ sampler: "heun", schedule: {} })).toThrow(/\.schedule\.steps is missing/);
    expect(check({ sampler: "heun", schedule: { steps: 2.5 } })).toThrow(/\.schedule\.steps must be an integer >= 1, got 2\.5/);
    expect(check({ sampler: "heun", schedule: { steps: 5, churn: 1 } })).toThrow(/\.schedule\.churn is not a schedule field/);
    expect(check({ sampler: "heun", schedule: { steps: 5, sChurn: 1 } })).toThrow(/\.schedule\.sChurn: the heun sampler does not read it \(it reads steps, rho, sigmaMin\)/);
    expect(check({ sampler: "edm-stochastic", schedule: { steps: 5, sChurn: -1 } })).toThrow(/\.schedule\.sChurn must be a finite number >= 0, got -1/);
    expect(check({ sampler: "dale-langevin", schedule: { steps: 5, anneal: 1.5 } })).toThrow(/\.schedule\.anneal must be a number in \(0, 1\], got 1\.5/);
    expect(check({ sampler: "dale-langevin", schedule: { steps: 5, grid: "cosine" } })).toThrow(/\.schedule\.grid must be one of uniform, karras/);
  });

  it("takes autoguidance by a folder inside the checkpoint's, for the solvers only", () => {
    const ok = checkSamplerChoice({ sampler: "heun", schedule: { steps: 13 }, guidance: { checkpoint: "guides/step-2600", weight: 2 } }, "x");
    expect(ok.guidance).toEqual({ checkpoint: "guides/step-2600", weight: 2 });
    const check = (guidance: unknown, sampler = "heun") => () => checkSamplerChoice({ sampler, schedule: { steps: 13 }, guidance }, "x");
    for (const path of ["../mnist-vp", "/etc", "guide/../..", "./guide", "guide/", "", "a\\b", "c:/x"]) {
      expect(check({ checkpoint: path, weight: 2 }), path).toThrow(/^x\.guidance\.checkpoint must be a relative folder inside the checkpoint's/);
    }
    expect(check({ checkpoint: "guide", weight: -1 })).toThrow(/^x\.guidance\.weight must be a finite number >= 0, got -1\.$/);
    expect(check({ checkpoint: "guide" })).toThrow(/guidance\.weight must be/);
    expect(check({ checkpoint: "guide", weight: 2, file: "x" })).toThrow(/guidance has unknown fields file/);
    expect(check({ checkpoint: "guide", weight: 2 }, "dale-langevin")).toThrow(/^x\.guidance: autoguidance combines denoisers, which only the solvers .* take, not dale-langevin\.$/);
  });
});

describe("runSampler dispatches every name to its algorithm", () => {
  // A tiny GBM problem (docs/method.md, section 6) and a tiny VP one, each with its exact score.
  const g = gbm({ sigma: 0.8, mu: 0.32, T: 1 });
  const gScore = lognormalMixtureScore(g, { weights: [0.5, 0.5], means: [[0.1], [0.6]], stds: [[0.05], [0.08]] }).stein;
  const vp = vpSDE();
  const vpScore = gaussianMixtureScore(vp, { weights: [0.3, 0.7], means: [[-1, 1], [1, -0.5]], stds: [[0.3, 0.5], [0.4, 0.2]] }).stein;
  const problems: { sde: AnySDE; score: typeof gScore; shape: number[] }[] = [
    { sde: g, score: gScore, shape: [16, 1] },
    { sde: vp, score: vpScore, shape: [16, 2] },
  ];
  const same = (a: tf.Tensor, b: tf.Tensor) => expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));

  /** The algorithm's own call with the options that runSampler should pass. */
  const direct = (name: SamplerName, sde: AnySDE, score: typeof gScore, xT: tf.Tensor, steps: number): Promise<tf.Tensor> => {
    const seed = 3;
    if (isSolver(name)) return solveProcess(denoiserFromScore(score, sde), xT, { sde, solver: name, steps, seed });
    if (sde.kind === "gbm") {
      if (name === "dale-langevin") return daleLangevin(score, xT, { sde, steps, seed, grid: "karras" });
      if (name === "sign-agnostic") return signAgnostic(score, xT, { sde, steps, seed, grid: "karras" });
      if (name === "probability-flow") return probabilityFlow(score, xT, { sde, steps, grid: "karras" });
    } else {
      if (name === "euler-maruyama") return eulerMaruyama(score, xT, { sde, steps, seed, grid: "karras" });
      if (name === "predictor-corrector") return predictorCorrector(score, xT, { sde, steps, seed, grid: "karras" });
    }
    throw new Error(`no direct call for ${name} on ${sde.kind}`);
  };

  it("gives the algorithm's own result, reports NFE up to samplerNfe, and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    let runs = 0;
    for (const { sde, score, shape } of problems) {
      const xT = sde.prior.sample(shape, 1);
      for (const name of SAMPLER_NAMES.filter((n) => samplerCatalogue[n].family === "any" || (samplerCatalogue[n].family === "multiplicative") === (sde.kind === "gbm"))) {
        const schedule: SamplerSchedule = { steps: 4, grid: "karras" }; // the solvers ignore grid: they always run on the Karras noise levels
        const seen: number[] = [];
        const totals = new Set<number>();
        const x0 = await runSampler(name, { score, sde, xT, schedule, seed: 3, onEvaluation: (p) => (seen.push(p.nfe), totals.add(p.totalNfe)) });
        const expected = await direct(name, sde, score, xT, 4);
        same(x0, expected);
        expect(x0.shape).toEqual(shape);
        // Every sampler but the sign-agnostic one (whose coarse steps may leave the positive orthant) stays finite, and positive under GBM.
        if (name !== "sign-agnostic") expect(tf.tidy(() => tf.all(tf.isFinite(x0)).dataSync()[0]), name).toBe(1);
        if (sde.kind === "gbm" && name !== "sign-agnostic") expect(tf.tidy(() => tf.min(x0).dataSync()[0]), name).toBeGreaterThan(0);
        // Progress rises to the run's NFE, samplerNfe's.
        expect([...totals], name).toEqual([samplerNfe(name, schedule)]);
        expect(seen.at(-1), name).toBe(samplerNfe(name, schedule));
        expect(seen.every((n, i) => n > (seen[i - 1] ?? 0)), `${name}: ${seen}`).toBe(true);
        tf.dispose([x0, expected]);
        runs++;
      }
      xT.dispose();
    }
    expect(runs).toBe(15); // 3 + 5 solvers on GBM, 2 + 5 solvers on VP
    expect(tf.memory().numTensors).toBe(before);
  });

  it("passes the stochastic solvers' schedule fields to them, and only to the solvers that read them", async () => {
    const before = tf.memory().numTensors;
    expect(samplerCatalogue["edm-stochastic"].scheduleOptions).toEqual(["steps", "rho", "sigmaMin", "sChurn", "sTmin", "sTmax", "sNoise"]);
    expect(samplerCatalogue["dpmpp-2m-sde"].scheduleOptions).toEqual(["steps", "rho", "sigmaMin", "eta"]);
    expect(samplerCatalogue.heun.scheduleOptions).toEqual(["steps", "rho", "sigmaMin"]);
    for (const { sde, score, shape } of problems) {
      const xT = sde.prior.sample(shape, 1);
      const run = (name: SamplerName, schedule: SamplerSchedule) => runSampler(name, { score, sde, xT, schedule, seed: 3 });
      const D = denoiserFromScore(score, sde);
      const outs = [
        // The fields reach the solver: each equals the direct call with the same options...
        [await run("edm-stochastic", { steps: 6, sChurn: 2, sTmin: 0.1, sTmax: 0.9, sNoise: 1.01 }), await solveProcess(D, xT, { sde, solver: "edm-stochastic", steps: 6, seed: 3, sChurn: 2, sTmin: 0.1, sTmax: 0.9, sNoise: 1.01 })],
        [await run("dpmpp-2m-sde", { steps: 6, eta: 0.5 }), await solveProcess(D, xT, { sde, solver: "dpmpp-2m-sde", steps: 6, seed: 3, eta: 0.5 })],
        // ... no churn is Heun, eta 0 is DPM-Solver++(2M) ...
        [await run("edm-stochastic", { steps: 6, sChurn: 0 }), await run("heun", { steps: 6 })],
        [await run("dpmpp-2m-sde", { steps: 6, eta: 0 }), await run("dpmpp-2m", { steps: 6 })],
        // ... and a solver that does not read a field ignores it.
        [await run("heun", { steps: 6, sChurn: 80, eta: 3 }), await run("heun", { steps: 6 })],
      ] as const;
      for (const [a, b] of outs) {
        same(a, b);
        tf.dispose([a, b]);
      }
      // The defaults churn (S_churn 40): not Heun.
      const churned = await run("edm-stochastic", { steps: 6 });
      const heun = await run("heun", { steps: 6 });
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(churned, heun))).dataSync()[0])).toBeGreaterThan(1e-3);
      tf.dispose([churned, heun, xT]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("lends the state x_t and the denoised estimate to the progress callback, computed only on request", async () => {
    const before = tf.memory().numTensors;
    const close = (a: tf.Tensor, b: tf.Tensor, tol: number) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeLessThan(tol);
    for (const { sde, score, shape } of problems) {
      const xT = sde.prior.sample(shape, 1);
      for (const name of ["heun", "dpmpp-2m", "edm-stochastic", sde.kind === "gbm" ? "dale-langevin" : "euler-maruyama"] as const) {
        // What the callback saw: the first state, the last state and the last estimate (kept tensors).
        const seen: { first: tf.Tensor | null; x: tf.Tensor | null; denoised: tf.Tensor | null; hasDenoised: boolean } = { first: null, x: null, denoised: null, hasDenoised: false };
        const held = () => [seen.first, seen.x, seen.denoised].filter((t): t is tf.Tensor => t !== null);
        const x0 = await runSampler(name, {
          score,
          sde,
          xT,
          schedule: { steps: 5 },
          seed: 3,
          onEvaluation: (p) => {
            seen.x?.dispose();
            seen.denoised?.dispose();
            seen.x = p.x();
            seen.first ??= tf.keep(tf.clone(seen.x)); // the callback runs inside the sampler's tidy: keep what outlives it
            seen.hasDenoised = p.denoised !== undefined;
            seen.denoised = p.denoised ? p.denoised() : null;
          },
        });
        expect(seen.hasDenoised, name).toBe(isSolver(name));
        if (isSolver(name)) {
          // The first evaluation is at x_T itself; the last one's estimate is what the step into sigma = 0 returns.
          close(seen.first as tf.Tensor, xT, 1e-4);
          close(seen.denoised as tf.Tensor, x0, 1e-6);
        } else close(seen.x as tf.Tensor, x0, 1e-6); // a reference sampler's state after its last update
        tf.dispose([x0, ...held()]);
      }
      xT.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("counts progress as the trainer did: per update, twice per predictor-corrector level, 2 per Heun step and 1 on the last", async () => {
    const progress = async (name: SamplerName, sde: AnySDE, score: typeof gScore, schedule: SamplerSchedule) => {
      const seen: number[] = [];
      const xT = sde.prior.sample([4, sde.kind === "gbm" ? 1 : 2], 2);
      const x0 = await runSampler(name, { score, sde, xT, schedule, seed: 0, onEvaluation: (p) => seen.push(p.nfe) });
      tf.dispose([x0, xT]);
      return seen;
    };
    expect(await progress("dale-langevin", g, gScore, { steps: 3, repeats: 2, denoiseSteps: 1, delta: 0.01 })).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await progress("probability-flow", g, gScore, { steps: 4 })).toEqual([2, 4, 6, 7]);
    expect(await progress("predictor-corrector", vp, vpScore, { steps: 3 })).toEqual([2, 4, 6]);
    expect(await progress("heun", g, gScore, { steps: 3 })).toEqual([1, 2, 3, 4, 5]);
    expect(await progress("dpmpp-2m", vp, vpScore, { steps: 3 })).toEqual([1, 2, 3]);
  });

  it("passes the reference schedule to dale-langevin and sign-agnostic, and the given denoiser to the solvers", async () => {
    const xT = g.prior.sample([8, 1], 5);
    const schedule = { steps: 6, delta: 2e-3, repeats: 2, anneal: 0.9, denoiseSteps: 2, denoise: false };
    for (const [name, sampler] of [
      ["dale-langevin", daleLangevin],
      ["sign-agnostic", signAgnostic],
    ] as const) {
      const a = await runSampler(name, { score: gScore, sde: g, xT, schedule, seed: 9 });
      const b = await sampler(gScore, xT, { sde: g, ...schedule, seed: 9 });
      same(a, b);
      tf.dispose([a, b]);
    }
    let calls = 0;
    const D = denoiserFromScore(gScore, g);
    const counted = (y: tf.Tensor, sigma: number) => (calls++, D(y, sigma));
    const a = await runSampler("euler", { score: gScore, denoiser: counted, sde: g, xT, schedule: { steps: 5, rho: 3, sigmaMin: 0.01 }, seed: 0 });
    const b = await solveProcess(D, xT, { sde: g, solver: "euler", steps: 5, rho: 3, sigmaMin: 0.01 });
    expect(calls).toBe(5);
    same(a, b);
    tf.dispose([a, b, xT]);
  });

  it("refuses a sampler of the other family and bad options by name, before sampling, and leaks nothing", async () => {
    const xT = vp.prior.sample([4, 2], 0);
    const before = tf.memory().numTensors;
    await expect(runSampler("dale-langevin", { score: vpScore, sde: vp, xT, schedule: { steps: 3 }, seed: 0 })).rejects.toThrow(
      /^checkSampler: the dale-langevin sampler is for multiplicative \(GBM\) diffusion, but the score was trained with the additive vp process/,
    );
    await expect(runSampler("euler-maruyama", { score: vpScore, sde: vp, xT, schedule: { steps: 3 }, seed: 0.5 })).rejects.toThrow(/^runSampler: seed must be an integer, got 0\.5\.$/);
    await expect(runSampler("euler-maruyama", { score: vpScore, sde: vp, xT, schedule: { steps: 0 }, seed: 0 })).rejects.toThrow(/^samplerNfe: schedule\.steps must be an integer >= 1, got 0\.$/);
    // @ts-expect-error not a sampler
    await expect(runSampler("ancestral", { score: vpScore, sde: vp, xT, schedule: { steps: 3 }, seed: 0 })).rejects.toThrow(/^runSampler: name must be one of .*got "ancestral"\.$/);
    // @ts-expect-error no options
    await expect(runSampler("heun", null)).rejects.toThrow(/^runSampler: options must be an object \{ score, sde, xT, schedule, seed \}, got null\.$/);
    const controller = new AbortController();
    controller.abort(new Error("stopped"));
    await expect(runSampler("heun", { score: vpScore, sde: vp, xT, schedule: { steps: 3 }, seed: 0, signal: controller.signal })).rejects.toThrow("stopped");
    await expect(runSampler("euler-maruyama", { score: vpScore, sde: vp, xT, schedule: { steps: 3 }, seed: 0, signal: controller.signal })).rejects.toThrow("stopped");
    expect(tf.memory().numTensors).toBe(before);
    xT.dispose();
  });
});
