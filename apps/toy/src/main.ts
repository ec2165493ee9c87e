#!/usr/bin/env node
// The toy's command line: parse options, choose a backend, run every sampler, print the table, write the outputs.
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { initBackend } from "@dale/backend";
import { renderPng } from "@dale/cli-kit";
import { parseCli } from "./cli";
import { histogramSpec } from "./chart";
import { runToy, tableRows } from "./run";
import { formatTable } from "./table";

async function main(): Promise<void> {
  const options = parseCli();
  const { backend } = await initBackend();
  const out = resolve(process.cwd(), options.out);
  console.error(
    `[toy] backend ${backend}; ${options.samples} samples; steps ${options.steps.join(", ")}; seed ${options.seed}; output ${out}`,
  );

  const live = process.stderr.isTTY === true;
  let lastDraw = 0;
  const results = await runToy(options, {
    onRunStart: ({ sampler, steps, index, total }) => {
      if (live) process.stderr.write(`[toy] ${index + 1}/${total} ${sampler} steps=${steps} ...`);
    },
    onProgress: ({ sampler, steps, nfe, totalNfe }) => {
      const now = performance.now();
      if (!live || (now - lastDraw < 100 && nfe < totalNfe)) return;
      lastDraw = now;
      process.stderr.write(`\r\x1b[2K[toy] ${sampler} steps=${steps}: ${Math.round((100 * nfe) / totalNfe)}% (NFE ${nfe}/${totalNfe})`);
    },
    onRunEnd: (run, index, total) => {
      const line = `[toy] ${index + 1}/${total} ${run.sampler} steps=${run.steps}: ${run.seconds.toFixed(2)} s, log-mean ${run.stats.mean.toFixed(4)}, non-positive ${run.nonPositive}`;
      process.stderr.write(live ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  });
  if (results.leakedTensors !== 0) console.error(`[toy] warning: ${results.leakedTensors} tensors were not disposed.`);

  console.log(formatTable(tableRows(results)));
  const ref = results.reference.data;
  console.log(
    `\nExact for the data: log-mean ${ref.mean.toFixed(4)}, log-std ${ref.std.toFixed(4)}, P(logX<${results.config.threshold}) ${ref.pBelow.toFixed(4)}.`,
  );

  await mkdir(out, { recursive: true });
  const jsonPath = resolve(out, "toy-results.json");
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const pngPath = resolve(out, "toy-histograms.png");
  const png = await renderPng(
    histogramSpec(results.data.histogram, results.runs, {
      title: "Dale samplers on the 1-D log-normal mixture: log X at t = 0 (bars) against the data (line)",
      subtitle: `${options.samples} samples per panel from the exact p_T with the exact score, seed ${options.seed}; backend ${backend}`,
    }),
  );
  await writeFile(pngPath, png);
  console.log(`Wrote ${jsonPath}\nWrote ${pngPath}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
