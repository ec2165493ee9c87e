// @dale/backend/node: what needs Node (worker threads). The main entry bundles for a browser. Importing this entry
// sets tfjs up as `import "@dale/backend"` does (gradients, kernels), since a shard computes gradients in this thread.
import "./init";

export { dataParallel, type DataParallel, type DataParallelOptions, type DataParallelShard } from "./parallel";
