// Convolution shapes that every registered conv kernel is checked on (wasm in CI, WebGPU on the GPU machine):
// strides, "same" / "valid" / numeric / explicit padding, odd sizes, 1x1 and 5x5 filters.
export type Case = {
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number | [number, number];
  pad: "same" | "valid" | number | [[number, number], [number, number], [number, number], [number, number]];
};

export const cases: Case[] = [
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 1, pad: "valid" },
  { x: [3, 9, 7, 2], f: [3, 3, 2, 5], strides: 2, pad: "same" },
  { x: [3, 9, 7, 2], f: [3, 3, 2, 5], strides: 2, pad: "valid" },
  { x: [1, 10, 10, 4], f: [5, 5, 4, 2], strides: 1, pad: "same" },
  { x: [2, 11, 8, 3], f: [2, 4, 3, 3], strides: [3, 2], pad: "valid" },
  { x: [2, 7, 7, 2], f: [3, 3, 2, 2], strides: 1, pad: 1 },
  { x: [2, 6, 6, 1], f: [1, 1, 1, 8], strides: 1, pad: "valid" },
  { x: [2, 8, 6, 2], f: [3, 3, 2, 3], strides: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
  { x: [4, 28, 28, 1], f: [3, 3, 1, 32], strides: 1, pad: "same" },
];
