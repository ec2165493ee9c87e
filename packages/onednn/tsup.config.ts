import { library } from "@dale/tsup-config";

// `shims` gives the CJS build the `import.meta.url` that loadOneDnn resolves the addon from.
export default library({ shims: true });
