// GPU check of Dale's ResizeNearestNeighborGrad on WebGPU, run on a lent GPU machine (see the package README):
//   ../shared/gpu/pack.sh packages/backend/device/resize-grad-check.ts && (device) source .device/setup.sh && node .device/app.mjs
// For each case: the gradient of sum(dy * resizeNearestNeighbor(x)) with Dale's kernel and with tfjs-webgpu's own,
// against the brute force (dy summed through the copy matrix that the forward op gives for one-hot images).
// Expected: Dale's "ok" everywhere; tfjs' own wrong where halfPixelCenters changes the mapping.
import { modes, shapes, worstError } from "../src/__fixtures__/resize-grad-brute";
import { initBackend, registerResizeNearestNeighborGrad, unregisterResizeNearestNeighborGrad } from "../src/index";

const choice = await initBackend({ prefer: "webgpu", verbose: true });
if (choice.backend !== "webgpu") throw new Error(`expected webgpu, got ${choice.backend}`);
let failures = 0;
for (const [xShape, size] of shapes) {
  for (const m of modes) {
    const name = `x [${xShape}] to ${size.join("x")} alignCorners=${m.alignCorners} halfPixelCenters=${m.halfPixelCenters}`;
    const dale = await worstError(xShape, size, m);
    // tfjs' own search window is 1 / 0 there (cpu's loops forever; webgpu's should come out empty): not risked.
    const onePixel = m.alignCorners && ((xShape[1] === 1 && size[0] > 1) || (xShape[2] === 1 && size[1] > 1));
    unregisterResizeNearestNeighborGrad("webgpu");
    const own = onePixel ? NaN : await worstError(xShape, size, m);
    registerResizeNearestNeighborGrad("webgpu");
    if (!(dale < 1e-4)) failures++;
    console.log(`${dale < 1e-4 ? "ok  " : "FAIL"} ${name} dale ${dale.toExponential(1)} tfjs-webgpu ${onePixel ? "not run" : own.toExponential(1)}`);
  }
}
console.log(failures === 0 ? "all ok" : `${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
