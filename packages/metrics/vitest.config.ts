import { daleVitestConfig } from "@dale/vitest-config";

// --expose-gc: the limit and fuzz tests of the .pth reader measure the array-buffer memory of each case from a clean heap.
export default daleVitestConfig({ execArgv: ["--expose-gc"] });
