import { daleVitestConfig } from "@dale/vitest-config";

// Two test files at once (the default on 2 cores is one): test/long-run.test.ts (a few minutes of training) runs
// beside trainer.test.ts instead of after it.
export default daleVitestConfig({ maxWorkers: 2 });
