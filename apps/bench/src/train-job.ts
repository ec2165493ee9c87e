// One model's training for the prepare stage: `train` of @dale/training, called in this thread, or in a worker
// thread of its own when several models train at the same time (`--jobs`). Either way the events are `train`'s hooks:
// no child process, no command line, no parsing of log text.
import { appendFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { NonFiniteLossError, train, type TrainOptions, type TrainResult } from "@dale/training";

/** What a training job reports: its steps, and its log lines (written to the job's log file as well). */
export interface TrainJobEvents {
  onStep: (step: number) => void;
  onLog?: (line: string) => void;
}

/** A message from a training worker thread. */
export type TrainWorkerMessage =
  | { type: "step"; step: number }
  | { type: "log"; line: string }
  | { type: "done"; result: TrainResult }
  | { type: "error"; message: string; nonFinite: boolean };

/** The hooks both paths share: log lines go to `logPath` (appended) and to `events.onLog`. */
export function jobHooks(logPath: string, events: TrainJobEvents, holder: string): Parameters<typeof train>[1] {
  const line = (l: string) => {
    appendFileSync(logPath, `${l}\n`);
    events.onLog?.(l);
  };
  let lastLogged = 0;
  return {
    holder: { what: holder, argv: process.argv },
    onLog: (message, level) => line(level === "info" ? message : `${level}: ${message}`),
    onStart: ({ start }) => {
      lastLogged = start;
    },
    onStep: ({ step, steps, loss, stepsPerSecond }) => {
      events.onStep(step);
      if (step - lastLogged >= Math.max(1, Math.floor(steps / 20)) || step === steps) {
        lastLogged = step;
        line(`step ${step}/${steps} loss ${loss.toFixed(4)} ${stepsPerSecond.toFixed(2)} steps/s`);
      }
    },
    onCheckpoint: ({ step, path }) => line(`checkpoint at step ${step}: ${path}`),
  };
}

/**
 * Trains with `options`, in this thread (`inWorker` false) or in a worker thread running `train-worker.js` (this
 * app's second build entry). Rejects with the training's error; a non-finite loss keeps its type
 * (`NonFiniteLossError`).
 */
export async function runTrainJob(options: TrainOptions, logPath: string, events: TrainJobEvents, inWorker: boolean): Promise<TrainResult> {
  if (!inWorker) return train(options, jobHooks(logPath, events, "dale-bench"));
  const worker = new Worker(new URL("./train-worker.js", import.meta.url), { workerData: { options, logPath } });
  return new Promise<TrainResult>((resolve, reject) => {
    let settled = false;
    worker.on("message", (m: TrainWorkerMessage) => {
      if (m.type === "step") events.onStep(m.step);
      else if (m.type === "log") events.onLog?.(m.line);
      else if (m.type === "done") {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(m.nonFinite ? new NonFiniteLossError(m.message) : new Error(m.message));
      }
    });
    worker.on("error", (e) => {
      settled = true;
      reject(e);
    });
    worker.on("exit", (code) => {
      if (!settled) reject(new Error(`the training worker for ${options.out} exited with code ${code} before it finished.`));
    });
  });
}
