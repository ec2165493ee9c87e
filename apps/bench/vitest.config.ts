import { daleVitestConfig } from "@dale/vitest-config";

export default daleVitestConfig({});
