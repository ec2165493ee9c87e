import { library } from "@dale/tsup-config";

// Two entries: "." (specs, parsers, transforms, batching: bundles for a browser) and "./node" (dataset files on disk).
// The built-in MNIST subset is found relative to the built file through import.meta.url; shim it for CJS.
export default library({ entry: ["src/index.ts", "src/node.ts"], shims: true, splitting: true });
