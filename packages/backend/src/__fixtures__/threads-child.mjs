// Run by src/wasm-threads.test.ts in a fresh Node process (the wasm backend's threads are fixed when it starts, and
// the test runner's process has started it already). Imports the build, starts the backend with the thread count in
// argv[2] ("-": none, so that DALE_WASM_THREADS or the core count decides), computes a small training problem with plain tfjs ops and tf.train.adam, and prints one JSON line.
// The process must end by itself: the test fails on a timeout if pthread workers keep it alive.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../dist/index.js";
import { problem } from "./threads-problem.mjs";

const choice = await initBackend(process.argv[2] === "-" ? {} : { threads: Number(process.argv[2]) });
const start = tf.memory().numTensors;
const result = await problem(tf);
const leaked = tf.memory().numTensors - start;
console.log(JSON.stringify({ backend: choice.backend, threads: choice.threads, threadsNote: choice.threadsNote ?? null, leaked, ...result }));
