import * as tf from "@tensorflow/tfjs-core";

/**
 * EDM's preconditioning (Karras et al. 2022, arXiv 2206.00364, Table 1 and eq. 7) at noise level sigma for data of
 * std sigma_data: D(y; sigma) = c_skip y + c_out F(c_in y, c_noise) with
 *
 *     c_skip = sd^2 / (sigma^2 + sd^2),  c_out = sigma sd / sqrt(sigma^2 + sd^2),  c_in = 1 / sqrt(sigma^2 + sd^2),
 *     c_noise = ln(sigma) / 4
 *
 * so that the network's input and training target both have unit variance at every noise level. `sigma` is `[batch]`;
 * each result is `[batch]`.
 */
export function edmScalings(sigma: tf.Tensor1D, sigmaData: number): { cSkip: tf.Tensor1D; cOut: tf.Tensor1D; cIn: tf.Tensor1D; cNoise: tf.Tensor1D } {
  if (!(sigmaData > 0) || !Number.isFinite(sigmaData)) throw new Error(`edmScalings: sigmaData must be a positive number, got ${sigmaData}.`);
  return tf.tidy(() => {
    const sd2 = sigmaData * sigmaData;
    const total = tf.add(tf.square(sigma), sd2);
    const cIn = tf.rsqrt(total) as tf.Tensor1D;
    return {
      cSkip: tf.div(sd2, total) as tf.Tensor1D,
      cOut: tf.mul(tf.mul(sigma, sigmaData), cIn) as tf.Tensor1D,
      cIn,
      cNoise: tf.div(tf.log(sigma), 4) as tf.Tensor1D,
    };
  });
}
