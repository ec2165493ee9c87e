import { daleVitestConfig } from "@dale/vitest-config";

export default daleVitestConfig({ testTimeout: 300_000 });
