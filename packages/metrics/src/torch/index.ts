export { readTorchStateDict, loadTorchStateDict, torchTensorToFloat32 } from "./state-dict";
export type { TorchTensor, TorchStateDict, TorchPlainValue, ReadTorchOptions } from "./state-dict";
export type { TorchDtype, TorchTensorData } from "./dtypes";
export { UnsafePickleError } from "./pickle";
