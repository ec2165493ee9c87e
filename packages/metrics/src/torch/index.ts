export { readTorchStateDict, loadTorchStateDict, torchTensorToFloat32, TORCH_READ_DEFAULTS } from "./state-dict";
export type { TorchTensor, TorchStateDict, TorchPlainValue, ReadTorchOptions } from "./state-dict";
export type { TorchDtype, TorchTensorData } from "./dtypes";
export { UnsafePickleError } from "./pickle";
