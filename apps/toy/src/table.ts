import type { LogStats } from "./stats";

/** One row of the results table: the data, or one sampler at one number of steps. */
export interface TableRow {
  sampler: string;
  /** Number of time levels; null for the data row. */
  steps: number | null;
  /** Score evaluations; null for the data row. */
  nfe: number | null;
  stats: LogStats;
  /** Values <= 0 or NaN in the sampler's output (0 for the data). */
  nonPositive: number;
  /** Wall-clock seconds of sampling; null for the data row. */
  seconds: number | null;
}

interface Column {
  header: string;
  align: "left" | "right";
  value: (row: TableRow) => string;
}

const fixed = (digits: number) => (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const orDash = (v: number | null, f: (v: number) => string = String) => (v === null ? "-" : f(v));

/** The table's columns, in order. */
export const COLUMNS: readonly Column[] = [
  { header: "sampler", align: "left", value: (r) => r.sampler },
  { header: "steps", align: "right", value: (r) => orDash(r.steps) },
  { header: "NFE", align: "right", value: (r) => orDash(r.nfe) },
  { header: "log-mean", align: "right", value: (r) => fixed(4)(r.stats.mean) },
  { header: "log-std", align: "right", value: (r) => fixed(4)(r.stats.std) },
  { header: "q05", align: "right", value: (r) => fixed(4)(r.stats.q05) },
  { header: "q50", align: "right", value: (r) => fixed(4)(r.stats.q50) },
  { header: "q95", align: "right", value: (r) => fixed(4)(r.stats.q95) },
  { header: "P(logX<0.35)", align: "right", value: (r) => fixed(4)(r.stats.pBelow) },
  { header: "non-pos", align: "right", value: (r) => String(r.nonPositive) },
  { header: "seconds", align: "right", value: (r) => orDash(r.seconds, fixed(2)) },
];

/**
 * The rows as a Markdown table with aligned columns: readable in a terminal and pasteable into a README or an issue.
 * The P column's header names the threshold of the first row.
 */
export function formatTable(rows: readonly TableRow[]): string {
  const threshold = rows[0]?.stats.threshold ?? 0.35;
  const columns = COLUMNS.map((c) => (c.header.startsWith("P(") ? { ...c, header: `P(logX<${threshold})` } : c));
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, j) => Math.max(c.header.length, 3, ...cells.map((row) => (row[j] as string).length)));
  const pad = (s: string, j: number) => {
    const w = widths[j] as number;
    return (columns[j] as Column).align === "left" ? s.padEnd(w) : s.padStart(w);
  };
  const line = (values: readonly string[]) => `| ${values.map(pad).join(" | ")} |`;
  const rule = `|${columns.map((c, j) => (c.align === "left" ? `:${"-".repeat((widths[j] as number) + 1)}` : `${"-".repeat((widths[j] as number) + 1)}:`)).join("|")}|`;
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join("\n");
}
