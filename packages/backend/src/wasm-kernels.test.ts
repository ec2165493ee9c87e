// Dale's wasm element-wise, reduction and matrix-product kernels against tfjs' reference cpu backend on random inputs,
// forward and gradient, over broadcast patterns, axes, batch shapes and transposes, in float32 tolerance.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import "./gradients";
import { planBroadcast } from "./kernels/wasm-binary";
import { registerWasmKernels, replacedWasmKernels, unregisterWasmKernels, WASM_KERNELS } from "./kernels/wasm-kernels";
import { mergeReduceAxes } from "./kernels/wasm-reduce";
import { replacedKernels } from "./kernels/replaced";
import { registerConvGradKernels } from "./kernels/conv-grad";

type Nested = number | Nested[];

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

function worstRelative(a: Nested, b: Nested): number {
  const fa = [a].flat(Infinity as 1) as number[];
  const fb = [b].flat(Infinity as 1) as number[];
  expect(fa.length).toBe(fb.length);
  let worst = 0;
  for (let i = 0; i < fa.length; i++) worst = Math.max(worst, Math.abs((fa[i] as number) - (fb[i] as number)) / (1 + Math.abs(fb[i] as number)));
  return worst;
}

function expectSameOnWasmAndCpu(f: () => Record<string, Nested>, tol: number): Promise<void> {
  return (async () => {
    const want = await onBackend("cpu", f);
    const got = await onBackend("wasm", f);
    for (const key of Object.keys(want)) {
      expect({ key, err: worstRelative(got[key] as Nested, want[key] as Nested) < tol ? 0 : worstRelative(got[key] as Nested, want[key] as Nested) }).toEqual({ key, err: 0 });
    }
  })();
}

beforeAll(async () => {
  registerWasmKernels();
  await tf.setBackend("wasm");
});

describe("planBroadcast", () => {
  it("merges group norm's axes and expands the mean over the channels of a group", () => {
    const plan = planBroadcast([2, 3, 3, 4, 2], [2, 1, 1, 4, 1], 8);
    expect(plan).not.toBeNull();
    expect(plan?.full).toBe("a");
    expect(plan?.outShape).toEqual([2, 3, 3, 4, 2]);
    expect(plan?.fullShape).toEqual([2, 9, 8]);
    expect(plan?.smallShape).toEqual([2, 1, 8]);
    expect(plan?.expand?.outer).toBe(2);
    expect(plan?.expand?.innerSource).toBe(4);
    expect([...(plan?.expand?.index ?? [])]).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it("splits a long axis to reach the run length instead of expanding over all of it", () => {
    const bias = planBroadcast([64, 28, 28, 8], [8]);
    expect(bias?.fullShape).toEqual([6272, 64]);
    expect(bias?.smallShape).toEqual([1, 64]);
    expect(bias?.expand?.outer).toBe(1);
    expect([...(bias?.expand?.index ?? [])]).toEqual(Array.from({ length: 64 }, (_, i) => i % 8));
    const gn = planBroadcast([32, 28, 28, 16, 2], [32, 1, 1, 16, 1]);
    expect(gn?.fullShape).toEqual([32, 392, 64]);
    expect(gn?.smallShape).toEqual([32, 1, 64]);
    expect(gn?.expand?.outer).toBe(32);
    expect(gn?.expand?.innerSource).toBe(16);
  });

  it("leaves equal sizes, scalars and two-sided broadcasts to tfjs, and long inner runs unexpanded", () => {
    expect(planBroadcast([4, 5], [4, 5])).toBeNull();
    expect(planBroadcast([4, 5], [1, 20].slice(0, 1))).toBeNull();
    expect(planBroadcast([4, 1, 6], [1, 5, 6])).toBeNull();
    const plan = planBroadcast([8, 7, 7, 64], [8, 1, 1, 64], 32);
    expect(plan?.fullShape).toEqual([8, 49, 64]);
    expect(plan?.smallShape).toEqual([8, 1, 64]);
    expect(plan?.expand).toBeNull();
    expect(planBroadcast([3, 1], [3, 5], 32)?.full).toBe("b");
  });
});

describe("mergeReduceAxes", () => {
  it("drops size-1 axes and merges neighbours of the same kind", () => {
    expect(mergeReduceAxes([2, 3, 3, 1, 4, 2], [1, 2, 5])).toEqual([
      { size: 2, reduce: false },
      { size: 9, reduce: true },
      { size: 4, reduce: false },
      { size: 2, reduce: true },
    ]);
  });
});

// [a shape, b shape]; each pair is also run swapped. Sizes keep the cpu side quick.
const binaryShapes: [number[], number[]][] = [
  [[3, 5, 5, 4, 2], [3, 1, 1, 4, 1]], // group norm, C/G = 2
  [[2, 4, 4, 8, 4], [2, 1, 1, 8, 1]], // C/G = 4
  [[3, 6, 6, 8], [3, 1, 1, 8]], // time embedding
  [[2, 6, 6, 40], [2, 1, 1, 40]], // long inner run: merged only
  [[5, 7, 3], [7, 1]],
  [[4, 9, 2], [4, 9, 1]],
  [[37, 2], [37, 1]],
  [[3, 50, 8], [8]], // a long axis split to reach the run length
  [[2, 20, 30, 4, 2], [2, 1, 1, 4, 1]], // the same, after group norm's merge
  [[6, 33], [33]],
  [[2, 3, 4, 5], [3, 1, 5]],
  [[2, 3, 4, 5], [1, 1, 1, 1]],
  [[3, 4], [3, 4]],
];
const binaryOps = {
  add: tf.add,
  sub: tf.sub,
  mul: tf.mul,
  div: tf.div,
  squaredDifference: tf.squaredDifference,
} as const;

describe.each(Object.keys(binaryOps) as (keyof typeof binaryOps)[])("%s on wasm matches the cpu backend", (op) => {
  const cases = binaryShapes.flatMap(([a, b]) => [
    [a, b],
    [b, a],
  ]);
  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))("%s, forward and gradients", async (_, [sa, sb], i) => {
    const f = (): Record<string, Nested> =>
      tf.tidy((): Record<string, Nested> => {
        const a = tf.randomUniform(sa as number[], -1, 1, "float32", 7 * i + 1);
        // Divisors away from zero.
        const b = op === "div" ? tf.randomUniform(sb as number[], 0.5, 1.5, "float32", 7 * i + 2) : tf.randomUniform(sb as number[], -1, 1, "float32", 7 * i + 2);
        const y = binaryOps[op](a, b);
        // tfjs' SquaredDifference gradient does not reduce over broadcast axes (on any backend): forward only there.
        if (op === "squaredDifference" && a.size !== b.size) return { y: y.arraySync() };
        const dy = tf.randomUniform(y.shape, -1, 1, "float32", 7 * i + 3);
        const [da, db] = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(binaryOps[op](u, v), dy)))([a, b]);
        return { y: y.arraySync(), da: (da as tf.Tensor).arraySync(), db: (db as tf.Tensor).arraySync() };
      });
    await expectSameOnWasmAndCpu(f, 2e-5);
  });
});

const reduceCases: [number[], number[], boolean][] = [
  [[3, 4, 4, 4, 2], [1, 2, 4], true], // group norm moments
  [[3, 4, 4, 4, 2], [1, 2, 4], false],
  [[2, 5, 6, 7], [1, 2], true], // bias gradient of a [B, 1, 1, C] add
  [[2, 5, 6, 7], [0, 1, 2], false], // bias gradient of a [C] add
  [[4, 3, 5], [0, 2], false],
  [[4, 3, 5], [0], true],
  [[6, 1, 5, 2], [0, 2], false],
  [[3, 4, 5], [2], false], // innermost only: tfjs' own path
  [[2, 3, 4, 5, 6], [0, 2, 4], true],
];

describe.each(["sum", "mean"] as const)("%s over axes on wasm matches the cpu backend", (kind) => {
  it.each(reduceCases.map((c, i) => [JSON.stringify(c), c, i] as const))("%s, forward and gradient", async (_, [shape, axes, keepDims], i) => {
    const reduce = (x: tf.Tensor) => (kind === "sum" ? tf.sum(x, axes, keepDims) : tf.mean(x, axes, keepDims));
    const f = () =>
      tf.tidy(() => {
        const x = tf.randomUniform(shape, -1, 1, "float32", 11 * i + 1);
        const y = reduce(x);
        const dy = tf.randomUniform(y.shape, -1, 1, "float32", 11 * i + 2);
        const dx = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(reduce(u), dy)))(x);
        return { y: y.arraySync(), shape: y.shape, dx: dx.arraySync() };
      });
    await expectSameOnWasmAndCpu(f, 2e-5);
  });

  it("keeps integer reductions on tfjs' path", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], "int32");
    const y = kind === "sum" ? tf.sum(x, [0, 2]) : tf.mean(x, [0, 2]);
    expect(Array.from(y.dataSync())).toEqual(kind === "sum" ? [14, 22] : [3.5, 5.5]);
    tf.dispose([x, y]);
  });
});

// [a shape, b shape, transposeA, transposeB]: batch shapes equal, broadcast from 1, rank 2 and 4, all transposes.
const matmulCases: [number[], number[], boolean, boolean][] = [];
for (const [ta, tb] of [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const) {
  const m = 20;
  const k = 24;
  const n = 18;
  const aS = (batch: number[]) => [...batch, ...(ta ? [k, m] : [m, k])];
  const bS = (batch: number[]) => [...batch, ...(tb ? [n, k] : [k, n])];
  matmulCases.push([aS([3]), bS([3]), ta, tb]);
  matmulCases.push([aS([]), bS([]), ta, tb]);
  matmulCases.push([aS([1]), bS([4]), ta, tb]);
  matmulCases.push([aS([4]), bS([1]), ta, tb]);
  matmulCases.push([aS([2, 3]), bS([2, 3]), ta, tb]);
}
matmulCases.push([[5, 49, 64], [5, 64, 49], false, false]); // attention, q k^T after the transpose
matmulCases.push([[2, 3, 4], [2, 4, 5], false, false]); // tiny items: tfjs' path

describe("BatchMatMul on wasm matches the cpu backend", () => {
  it.each(matmulCases.map((c, i) => [JSON.stringify(c), c, i] as const))("%s, forward and gradients", async (_, [sa, sb, ta, tb], i) => {
    const f = (): Record<string, Nested> =>
      tf.tidy((): Record<string, Nested> => {
        const a = tf.randomUniform(sa, -1, 1, "float32", 13 * i + 1);
        const b = tf.randomUniform(sb, -1, 1, "float32", 13 * i + 2);
        const y = tf.matMul(a, b, ta, tb);
        // tfjs' BatchMatMul gradient does not reduce over broadcast batch axes (on any backend): forward only there.
        if (a.size / (sa.at(-1)! * sa.at(-2)!) !== b.size / (sb.at(-1)! * sb.at(-2)!)) return { y: y.arraySync(), shape: y.shape };
        const dy = tf.randomUniform(y.shape, -1, 1, "float32", 13 * i + 3);
        const [da, db] = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(tf.matMul(u, v, ta, tb), dy)))([a, b]);
        return { y: y.arraySync(), shape: y.shape, da: (da as tf.Tensor).arraySync(), db: (db as tf.Tensor).arraySync() };
      });
    await expectSameOnWasmAndCpu(f, 5e-5);
  });
});

// Slice boxes [shape, begin, size], Concat inputs along an axis, and the clones.
const sliceCases: [number[], number[], number[]][] = [
  [[4, 5, 6, 8], [0, 0, 0, 2], [4, 5, 6, 3]], // Split along the channels (Concat's gradient)
  [[4, 5, 6, 8], [1, 2, 0, 0], [2, 3, 6, 8]],
  [[4, 5, 6, 8], [1, 1, 2, 3], [3, 2, 3, 4]],
  [[7, 9], [2, 3], [4, 5]],
  [[7, 9], [0, 0], [7, 9]],
  [[3, 4, 5], [1, 0, 0], [1, 4, 5]],
  [[2, 3, 4, 5, 6], [1, 1, 1, 1, 1], [1, 2, 2, 3, 4]],
];

describe("copies on wasm match the cpu backend", () => {
  it.each(sliceCases.map((c, i) => [JSON.stringify(c), c, i] as const))("slice %s, forward and gradient", async (_, [shape, begin, size], i) => {
    const f = () =>
      tf.tidy(() => {
        const x = tf.randomUniform(shape, -1, 1, "float32", 17 * i + 1);
        const y = tf.slice(x, begin, size);
        const dy = tf.randomUniform(y.shape, -1, 1, "float32", 17 * i + 2);
        const dx = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.slice(u, begin, size), dy)))(x);
        const yi = tf.slice(tf.cast(tf.mul(x, 100), "int32"), begin, size);
        return { y: y.arraySync(), dx: dx.arraySync(), yi: yi.arraySync() };
      });
    await expectSameOnWasmAndCpu(f, 1e-6);
  });

  it.each([
    [[[2, 3, 4, 5], [2, 3, 4, 3]], 3],
    [[[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 1]], -1],
    [[[2, 3, 4], [2, 1, 4], [2, 0, 4]], 1],
    [[[3, 4], [2, 4]], 0],
  ] as [number[][], number][])("concat %j on axis %i, forward and gradient (split)", async (shapes, axis) => {
    const f = () =>
      tf.tidy(() => {
        const xs = shapes.map((s, j) => tf.randomUniform(s, -1, 1, "float32", 31 + j));
        const y = tf.concat(xs, axis);
        const dy = tf.randomUniform(y.shape, -1, 1, "float32", 30);
        const nonEmpty = xs.filter((x) => x.size > 0);
        const dxs = tf.grads((...u: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(u, axis), dy)))(nonEmpty);
        const split = tf.split(y, nonEmpty.map((x) => x.shape[axis < 0 ? x.rank + axis : axis] as number), axis);
        return { y: y.arraySync(), dxs: dxs.map((d) => d.arraySync()), split: split.map((t) => t.arraySync()) };
      });
    await expectSameOnWasmAndCpu(f as () => Record<string, Nested>, 1e-6);
  });

  it("clones and casts to the same dtype without copying, and frees the data with the last reference", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const before = tf.memory();
    const y = tf.clone(x);
    const z = tf.cast(x, "float32");
    // tf.memory() counts bytes per tensor, buffers per data: one buffer, three tensors on it.
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(tf.engine().backend.numDataIds()).toBe(before.numDataBuffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3, 4]);
    const w = tf.cast(z, "int32");
    expect(w.dtype).toBe("int32");
    expect(Array.from(w.dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([z, w]);
    expect(tf.memory().numBytes).toBe(before.numBytes - 16);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers - 1);
  });
});

describe("memory", () => {
  it("leaks no tensors, backend buffers or wasm heap over repeated calls", async () => {
    await tf.setBackend("wasm");
    const x = tf.randomNormal([4, 6, 6, 4, 2]);
    const q = tf.randomNormal([4, 36, 16]);
    const k = tf.randomNormal([4, 36, 16]);
    const step = () =>
      tf.tidy(() => {
        const mean = tf.mean(x, [1, 2, 4], true);
        const normed = tf.div(tf.sub(x, mean), tf.add(tf.mean(tf.squaredDifference(x, mean), [1, 2, 4], true), 1e-5));
        const att = tf.matMul(q, k, false, true);
        const [dq] = tf.grads((u: tf.Tensor) => tf.sum(tf.matMul(u, k, false, true)))([q]);
        return tf.add(tf.sum(normed), tf.add(tf.sum(att), tf.sum(dq as tf.Tensor)));
      });
    step().dispose();
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const before = tf.memory();
    for (let i = 0; i < 20; i++) step().dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    expect((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length).toBe(heap);
    tf.dispose([x, q, k]);
  });
});

describe("registration", () => {
  it("lists what it replaced, puts tfjs' kernels back, and registers again", async () => {
    await tf.setBackend("wasm");
    registerConvGradKernels("wasm");
    expect(Object.keys(replacedWasmKernels()).sort()).toEqual([...WASM_KERNELS].sort());
    expect(Object.keys(replacedKernels("wasm"))).toEqual(expect.arrayContaining(["Conv2DBackpropFilter", "Conv2DBackpropInput", ...WASM_KERNELS]));
    const ours = tf.getKernel("Sub", "wasm")?.kernelFunc;
    unregisterWasmKernels();
    expect(replacedWasmKernels()).toEqual({});
    expect(tf.getKernel("Sub", "wasm")?.kernelFunc).not.toBe(ours);
    const a = tf.randomNormal([2, 3, 3, 4, 2]);
    const m = tf.mean(a, [1, 2, 4], true);
    const before = tf.sub(a, m).arraySync();
    registerWasmKernels();
    expect(tf.getKernel("Sub", "wasm")?.kernelFunc).not.toBe(ours); // a new closure over the same original
    expect(worstRelative(tf.sub(a, m).arraySync(), before)).toBeLessThan(1e-6);
    expect(() => registerWasmKernels({ kernels: ["Nope" as "Add"] })).toThrow(/kernels must be among/);
    tf.dispose([a, m]);
  });
});
