"use strict";
// One pthread of tfjs' multi-threaded wasm backend, as a Node worker thread (started by @dale/backend's
// src/wasm-threads.ts, which points Emscripten's `locateFile("*.worker.js")` here).
//
// tfjs-backend-wasm ships Emscripten's pthread worker script only as a string (`wasmWorkerContents`) and, in its own
// start-up, hands it to `new Worker()` as a `blob:` URL, which Node's worker_threads reject. This file is that script's
// home on disk: it runs the string that the installed tfjs-backend-wasm exports, so the worker always matches the
// installed wasm binary. The string holds "\n" escapes that tfjs' build turned into newlines inside a string literal;
// they are escaped back as tfjs does before it makes its blob. The script reads `require` and `__filename`.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS worker file, by design
const { wasmWorkerContents } = require("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js");

// The worker script is code that tfjs ships as a string; it runs with this file's require and name.
new Function("require", "__filename", wasmWorkerContents.replace(/\n/g, "\\n"))(require, __filename);
