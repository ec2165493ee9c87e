import * as tf from "@tensorflow/tfjs-core";

type Info = tf.TensorInfo;
type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;

/**
 * The inputs and geometry of a Conv2DBackpropFilter call (NHWC, dilation 1), shared by every implementation:
 * x `[B, H, W, Ci]`, dy `[B, Ho, Wo, Co]`, the filter shape and tfjs' conv info (strides, pads, output size).
 */
export function filterGradProblem(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: Pad;
    dataFormat: "NHWC" | "NCHW";
    dimRoundingMode?: "floor" | "round" | "ceil";
    filterShape: [number, number, number, number];
  };
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`@dale/backend Conv2DBackpropFilter: only NHWC is supported, got ${dataFormat}.`);
  }
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  return { x, dy, filterShape, info };
}
