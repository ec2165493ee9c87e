import { library } from "@dale/tsup-config";

// src/cli.ts is the dale-metrics command's code; bin/dale-metrics.mjs runs it.
export default library({ entry: ["src/index.ts", "src/cli.ts"] });
