import { application } from "@dale/tsup-config";

// The bins (dale-bench, dale-bench-summary), and the worker thread that trains a model when several train at the same time (--jobs).
export default application({ entry: ["src/bench.ts", "src/summarize.ts", "src/train-worker.ts"], banner: { js: "#!/usr/bin/env node" } });
