// The backend names, in a leaf module: init.ts registers kernels when imported, parallel.ts only needs the names.

/** The backends Dale knows, fastest first. */
export const BACKENDS = ["tensorflow-gpu", "tensorflow", "webgpu", "webgl", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];
