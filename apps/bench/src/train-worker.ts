// The worker thread of a training job (`runTrainJob` with `inWorker`): runs `train` with the options it is given and
// posts its steps, log lines and result back to the benchmark's main thread.
import { parentPort, workerData } from "node:worker_threads";
import { NonFiniteLossError, train, type TrainOptions } from "@dale/training";
import { jobHooks, type TrainWorkerMessage } from "./train-job";

const port = parentPort;
if (port === null) throw new Error("train-worker.js runs in a worker thread started by dale-bench's runTrainJob.");
const { options, logPath } = workerData as { options: TrainOptions; logPath: string };
const post = (m: TrainWorkerMessage) => port.postMessage(m);
try {
  const result = await train(options, jobHooks(logPath, { onStep: (step) => post({ type: "step", step }), onLog: (line) => post({ type: "log", line }) }, "dale-bench (worker thread)"));
  post({ type: "done", result });
} catch (e) {
  post({ type: "error", message: e instanceof Error ? e.message : String(e), nonFinite: e instanceof NonFiniteLossError });
}
