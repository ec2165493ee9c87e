import { application } from "@dale/tsup-config";

// One ESM bin (which also runs dale-train in its child processes).
export default application({ entry: ["src/bench.ts"], banner: { js: "#!/usr/bin/env node" } });
