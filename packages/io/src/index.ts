// The browser-safe entry: byte codecs only (no Node built-ins, no Buffer). Atomic file writes are in "@dale/io/node".
export { encodeSafetensors, decodeSafetensors, type SafetensorsDtype, type SafetensorsFile, type RawTensor } from "./safetensors";
export { float32ToFloat16, float16ToFloat32 } from "./float16";
export { encodeNpy, decodeNpy, decodeNpyArray } from "./npy";
