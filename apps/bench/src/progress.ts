// Progress for long stages: a cli-progress bar per task on a terminal, a log line every tenth of a task otherwise
// (CI logs, job runners).
import cliProgress from "cli-progress";

export interface Task {
  update(value: number): void;
  done(): void;
}

export interface Progress {
  task(label: string, total: number): Task;
  log(line: string): void;
}

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const write = (line: string) => {
    if (options.quiet !== true) stream.write(`[bench] ${line}\n`);
  };
  const live = stream.isTTY === true && options.quiet !== true;
  return {
    log: write,
    task(label, total) {
      const t0 = performance.now();
      if (live) {
        const bar = new cliProgress.SingleBar(
          { format: `[bench] ${label} {bar} {value}/{total} | {duration_formatted} | ETA {eta_formatted}`, stream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
        return { update: (v) => bar.update(v), done: () => bar.stop() };
      }
      let shown = -1;
      write(`${label}: started (${total})`);
      return {
        update(v) {
          const tenth = Math.floor((10 * v) / Math.max(1, total));
          if (tenth > shown && v < total) {
            shown = tenth;
            write(`${label}: ${v}/${total} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
          }
        },
        done: () => write(`${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`),
      };
    },
  };
}
