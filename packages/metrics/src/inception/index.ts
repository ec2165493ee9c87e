export { FidInceptionV3, INCEPTION_CONVS, INCEPTION_SIZE, INCEPTION_FEATURE_DIM, INCEPTION_CLASSES, inceptionStateDictShapes, foldBatchNorm } from "./network";
export type { InceptionConvSpec, InceptionOutputs } from "./network";
export {
  fidInceptionWeights,
  defaultInceptionWeightsDir,
  torchHubCheckpointsDir,
  FID_INCEPTION_WEIGHTS_FILE,
  FID_INCEPTION_WEIGHTS_URL,
  FID_INCEPTION_SHA256_PREFIX,
} from "./weights";
export type { FidInceptionWeightsOptions, FidInceptionWeightsFile } from "./weights";
export { inceptionFeatureExtractor, FID_INCEPTION_NAME } from "./extractor";
export type { InceptionExtractorOptions, InceptionFeatureExtractor } from "./extractor";
