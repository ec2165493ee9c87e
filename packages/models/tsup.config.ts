import { library } from "@dale/tsup-config";

// Two entries: "." (networks, checkpoints over bytes and URLs, fromPretrained: bundles for a browser) and "./node"
// (checkpoint folders and atomic writes).
export default library({ entry: ["src/index.ts", "src/node.ts"], splitting: true });
