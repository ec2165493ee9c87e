import { application } from "@dale/tsup-config";

// ESM entry points for the three bins (dale-train, dale-sample, dale-export), shard.js (which --workers' threads
// import) and lib.js, the small library entry that other apps of this repository import (the only one with
// declarations).
export default application({
  entry: ["src/train.ts", "src/sample.ts", "src/export.ts", "src/shard.ts", "src/lib.ts"],
  dts: { entry: "src/lib.ts" },
  banner: { js: "#!/usr/bin/env node" },
});
