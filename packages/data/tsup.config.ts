import { library } from "@dale/tsup-config";

// The built-in MNIST subset is found relative to the built file through import.meta.url; shim it for CJS.
export default library({ shims: true });
