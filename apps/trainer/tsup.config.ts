import { application } from "@dale/tsup-config";

// ESM entry points for the three bins: dale-train, dale-sample and dale-export (the library they share is @dale/training).
export default application({
  entry: ["src/train.ts", "src/sample.ts", "src/export.ts"],
  banner: { js: "#!/usr/bin/env node" },
});
