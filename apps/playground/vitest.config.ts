import { daleVitestConfig } from "@dale/vitest-config";

// The browser tests drive Debian's chromium through playwright-core against the built page (dist/, which turbo's test
// task builds first); SwiftShader's WebGPU is slow, hence the long timeout.
export default daleVitestConfig({ include: ["test/**/*.test.ts"], testTimeout: 600_000 });
