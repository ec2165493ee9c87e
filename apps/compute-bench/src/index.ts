// The bench's reusable pieces: the reference nets, the timing method, the PyTorch runner, runBench and the report.
export * from "./nets";
export * from "./models";
export * from "./kernels";
export * from "./timing";
export * from "./torch";
export * from "./bench";
export * from "./report";
export * from "./cli";
