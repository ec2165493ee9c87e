#!/usr/bin/env node
// The bench's command line; everything else is in cli.ts (benchMain) and bench.ts (runBench).
import { benchMain } from "./cli";

benchMain(process.argv, { entry: "main" }).catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
