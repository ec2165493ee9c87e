import { library } from "@dale/tsup-config";

// Two entries: "." (byte codecs, bundles for a browser) and "./node" (atomic file writes).
export default library({ entry: ["src/index.ts", "src/node.ts"] });
