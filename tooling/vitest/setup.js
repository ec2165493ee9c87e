// Runs before each test file: choose a backend that needs no native install.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

const backend = process.env.DALE_BACKEND ?? "wasm";
if (!(await tf.setBackend(backend))) {
  throw new Error(`DALE_BACKEND=${backend}: tfjs could not initialise this backend (expected "cpu" or "wasm").`);
}
await tf.ready();
