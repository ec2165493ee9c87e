// The printed table and the BENCH_JSON line.
import type { BenchReport } from "./bench";
import { netLabel } from "./models";

const ms = (v: number | undefined) => (v === undefined ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(2));

/**
 * One Markdown row per net, phase, kernel set and tfjs worker count: net, batch, phase, kernels, workers, tfjs ms on
 * the backend, then per PyTorch configuration its ms and tfjs/torch (above 1: tfjs is slower). Errors show as
 * "error" and are listed under the table.
 */
export function formatTable(report: BenchReport): string {
  const configs = report.torch.configs;
  const headers = ["net", "batch", "phase", "kernels", "workers", `tfjs ${report.backend} ms`];
  for (const c of configs) headers.push(`torch ${c} ms`, `tfjs/torch ${c}`);
  const isLeft = (j: number) => j === 0 || j === 2 || j === 3; // net, phase and kernels align left, figures right
  const cells = report.rows.map((r) => {
    const line = [netLabel(r.net), String(r.batch), r.phase, r.kernels, String(r.workers), r.tfjs.error !== undefined ? "error" : ms(r.tfjs.msMedian)];
    for (const c of configs) {
      const t = r.torch[c];
      line.push(t?.error !== undefined ? "error" : ms(t?.msMedian), ratio(r.ratio[c]));
    }
    return line;
  });
  const widths = headers.map((h, j) => Math.max(h.length, 3, ...cells.map((row) => (row[j] as string).length)));
  const pad = (s: string, j: number) => (isLeft(j) ? s.padEnd(widths[j] as number) : s.padStart(widths[j] as number));
  const line = (values: readonly string[]) => `| ${values.map(pad).join(" | ")} |`;
  const rule = `|${widths.map((w, j) => (isLeft(j) ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  const out = [line(headers), rule, ...cells.map(line)];

  const notes: string[] = [];
  for (const r of report.rows) {
    const what = `${netLabel(r.net)} ${r.phase} batch ${r.batch} (kernels ${r.kernels}, ${r.workers} workers)`;
    if (r.tfjs.error !== undefined) notes.push(`error: ${what}, tfjs ${report.backend}: ${r.tfjs.error}`);
    for (const c of configs) {
      const e = r.torch[c]?.error;
      if (e !== undefined) notes.push(`error: ${what}, torch ${c}: ${e}`);
    }
    if (r.tfjs.leakedTensors) {
      const why = r.tfjs.error !== undefined ? " (kept by tfjs' gradient tape for the backward pass that failed)" : "";
      notes.push(`warning: ${what}, tfjs left ${r.tfjs.leakedTensors} tensors${why}`);
    }
    if (r.tfjs.tensorGrowth) notes.push(`warning: ${what}, tfjs tensors grew by ${r.tfjs.tensorGrowth} over the timed steps`);
  }
  if (!report.torch.ok) notes.push(`PyTorch: not run (${report.torch.reason}): ${report.torch.message}`);
  const torchText = report.torch.ok
    ? `torch ${report.torch.version} (python ${report.torch.python}${report.torch.cuda.used ? `, ${report.torch.cuda.device}` : ", CPU"})`
    : "no torch";
  const wasm = report.wasm
    ? ` (simd ${report.wasm.simd}, ${report.wasm.threads ?? (report.wasm.multithread ? "several" : 1)} thread(s)${report.wasm.onednn !== undefined ? `, oneDNN convolutions: ${report.wasm.onednn}` : ""})`
    : "";
  notes.push(
    `tfjs ${report.tfjsVersion} on ${report.backend}${wasm}; ${torchText}; ${report.machine.cpu}, ${report.machine.cores} cores; ` +
      `median ms per step, ~${report.options.seconds} s per measurement after ${report.options.warmup} warm-up steps.`,
  );
  return [...out, "", ...notes].join("\n");
}

/** `BENCH_JSON {...}`: the whole report on one line, for logs and scripts (`grep ^BENCH_JSON | cut -c12-`). */
export function benchJsonLine(report: BenchReport): string {
  return `BENCH_JSON ${JSON.stringify(report)}`;
}
