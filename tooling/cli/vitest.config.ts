import { daleVitestConfig } from "@dale/vitest-config";

// Nothing here touches tfjs, so the shared setup file (which picks a tfjs backend) is left out.
export default daleVitestConfig({ setupFiles: [] });
