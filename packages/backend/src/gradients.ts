import * as tf from "@tensorflow/tfjs-core";
// `@tensorflow/tfjs-core`'s Node build registers no gradients, and Node cannot import its ESM-only
// `dist/register_all_gradients.js` (extensionless imports). The `@tensorflow/tfjs` union package ships a bundle that
// registers every gradient (and the chained tensor methods) into tfjs-core's global registry. Dale imports it here,
// and only here: every other package that needs gradients says so and points to `@dale/backend`.
import "@tensorflow/tfjs";

/** True when tfjs can differentiate through the kernels Dale's losses use. */
export function gradientsRegistered(): boolean {
  return ["Multiply", "Add", "Sum", "Exp", "Log", "Conv2D"].every((k) => tf.getGradient(k) !== undefined);
}
