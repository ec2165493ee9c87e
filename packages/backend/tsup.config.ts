import { library } from "@dale/tsup-config";

// Three entries: "." (bundles for a browser), "./node" (`dataParallel`, worker threads) and the worker thread of
// `dataParallel` (which finds it next to its own built file). `shims` gives the CJS build an `import.meta.url`.
export default library({ entry: ["src/index.ts", "src/node.ts", "src/parallel-worker.ts"], shims: true, splitting: true });
