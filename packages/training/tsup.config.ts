import { library } from "@dale/tsup-config";

// shard.ts is its own entry: the data-parallel worker threads of `train({ workers })` import dist/shard.js.
export default library({ entry: ["src/index.ts", "src/shard.ts"], shims: true });
