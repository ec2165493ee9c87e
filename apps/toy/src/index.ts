// The toy's reusable pieces, for tests and for anyone who wants the numbers without the CLI.
export * from "./mixture";
export * from "./stats";
export * from "./table";
export * from "./chart";
export * from "./run";
export * from "./cli";
