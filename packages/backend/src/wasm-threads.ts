// tfjs' wasm backend on several threads in Node.
//
// tfjs-backend-wasm ships a multi-threaded SIMD build (Emscripten pthreads: XNNPACK's thread pool runs on Web Workers
// that share the wasm memory), but never uses it in Node: its flag WASM_HAS_MULTITHREAD_SUPPORT is false there, and
// its start-up hands the pthread worker script to `new Worker()` as a `blob:` URL, which Node's worker_threads reject.
// It also caps the pool at half of `os.cpus().length` (it assumes two hyper-threads per core), which is one thread on
// a 2-vCPU machine.
//
// `installThreadedWasm(threads)` replaces the factory of the (not yet started) "wasm" backend with one that starts the
// same threaded build from files: the Emscripten module `wasm-out/tfjs-backend-wasm-threaded-simd.js`, its `.wasm`,
// and `worker/wasm-pthread-worker.cjs` (this package's file that runs tfjs' pthread worker script). The backend object
// is tfjs' own `BackendWasm`, so every tfjs kernel, and every kernel Dale registers for "wasm", runs unchanged. The
// thread count reaches XNNPACK through tfjs' `setThreadsCount`, and the cap is lifted by answering Emscripten's
// "logical cores" query with twice the count. When the threaded build cannot start, the factory says why once and
// starts tfjs' own single-threaded backend instead.
import type * as NodeFs from "node:fs";
import type * as NodeModule from "node:module";
import type * as NodePath from "node:path";
import type * as NodeUrl from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { BackendWasm, getThreadsCount, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";

/** The file stem of tfjs-backend-wasm's threaded SIMD build (its `.js` module, `.wasm` binary and worker string). */
const THREADED = "tfjs-backend-wasm-threaded-simd";
/** This package's pthread worker file, relative to this module (src/ in tests, dist/ when built: both one level down). */
const WORKER_FILE = "../worker/wasm-pthread-worker.cjs";

/** The Emscripten module of tfjs' wasm build, as far as this file touches it. */
interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => unknown;
  [key: string]: unknown;
}
type WasmImports = WebAssembly.Imports & { env: WebAssembly.ModuleImports };
interface FactoryConfig {
  locateFile: (path: string, prefix: string) => string;
  mainScriptUrlOrBlob: string;
  instantiateWasm: (imports: WasmImports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => object;
  onAbort: (what: unknown) => void;
}

let installedThreads: number | null = null;
/** The "wasm" factory that tfjs registered, saved before the first replacement. */
let tfjsFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | null = null;

/** The thread count that `installThreadedWasm` set up for the wasm backend, or null when it did not (yet). */
export function threadedWasmInstalled(): number | null {
  return installedThreads;
}

/**
 * The wasm backend's XNNPACK thread count once it has started (tfjs' `getThreadsCount`), else null.
 */
export function wasmThreads(): number | null {
  try {
    return getThreadsCount();
  } catch {
    return null;
  }
}

async function importNode<T>(name: string): Promise<T> {
  // A variable specifier, so that a browser bundler leaves Node's built-ins alone (this file runs only in Node).
  return (await import(/* @vite-ignore */ name)) as T;
}

/**
 * Makes the "wasm" backend start tfjs' multi-threaded build with `threads` XNNPACK threads, in Node; 1 puts tfjs' own
 * single-threaded start-up back. Returns null when done, else why not (the wasm backend is then left as it was). Call
 * it before the wasm backend starts: once tfjs has made the backend, its threads are fixed.
 */
export async function installThreadedWasm(threads: number): Promise<string | null> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`installThreadedWasm: threads must be a positive integer, got ${threads}.`);
  }
  if (typeof globalThis.process?.versions?.node !== "string") return "threads are set up here only in Node";
  if (installedThreads === threads || (threads === 1 && installedThreads === null)) return null;
  const engine = tf.engine();
  if ("wasm" in engine.registry) {
    return `the wasm backend has already started with ${wasmThreads() ?? "?"} thread(s); call initBackend before tf.setBackend("wasm")`;
  }
  const registered = engine.registryFactory.wasm;
  if (registered === undefined) return "tfjs' wasm backend is not registered";
  // The factory tfjs registered, kept (from the first call on) as the fallback and for threads 1.
  const original = (tfjsFactory ??= registered.factory);
  if (threads === 1) {
    tf.removeBackend("wasm");
    tf.registerBackend("wasm", original, registered.priority);
    setThreadsCount(-1);
    installedThreads = null;
    return null;
  }
  const { createRequire } = await importNode<typeof NodeModule>("node:module");
  const { readFileSync, existsSync } = await importNode<typeof NodeFs>("node:fs");
  const { fileURLToPath } = await importNode<typeof NodeUrl>("node:url");
  const { dirname, join } = await importNode<typeof NodePath>("node:path");
  const require = createRequire(import.meta.url);
  const wasmOut = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out");
  const script = join(wasmOut, `${THREADED}.js`);
  const binary = join(wasmOut, `${THREADED}.wasm`);
  const worker = fileURLToPath(new URL(WORKER_FILE, import.meta.url));
  for (const f of [script, binary, worker]) {
    if (!existsSync(f)) return `a file of the threaded wasm build is missing: ${f}`;
  }

  const start = async (): Promise<BackendWasm> => {
    const factory = require(script) as (config: FactoryConfig) => Promise<EmscriptenModule>;
    let aborted: unknown = null;
    const module = await factory({
      locateFile: (path, prefix) => (path.endsWith(".worker.js") ? worker : path.endsWith(".wasm") ? binary : prefix + path),
      // What each pthread worker evaluates before it instantiates the shared module: the same file, by path.
      mainScriptUrlOrBlob: script,
      instantiateWasm(imports, receive) {
        // tfjs' C++ takes half of this as its thread cap; answer so that the cap is the count asked for.
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        WebAssembly.instantiate(readFileSync(binary), imports).then(
          (r) => receive(r.instance, r.module),
          (e: unknown) => {
            aborted = e;
          },
        );
        return {};
      },
      onAbort(what) {
        aborted = what;
      },
    });
    if (aborted !== null) throw new Error(`the threaded wasm build aborted: ${String(aborted)}`);
    // The same wrappers as tfjs' own start-up (BackendWasm calls them).
    module.tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []),
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    setThreadsCount(threads);
    const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    // XNNPACK's pool threads now run for the life of the process, and Emscripten keeps a running pthread's worker
    // referenced, which would keep Node from exiting when the program is done: let them go.
    const pthreads = module.PThread as { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] } | undefined;
    for (const w of [...(pthreads?.runningWorkers ?? []), ...(pthreads?.unusedWorkers ?? [])]) w.unref();
    return backend;
  };

  tf.removeBackend("wasm");
  tf.registerBackend(
    "wasm",
    async () => {
      try {
        return await start();
      } catch (e) {
        installedThreads = null;
        console.warn(
          `[dale] the multi-threaded wasm backend could not start (${e instanceof Error ? e.message : String(e)}); using tfjs' single-threaded one.`,
        );
        setThreadsCount(-1);
        return original();
      }
    },
    registered.priority,
  );
  installedThreads = threads;
  return null;
}
