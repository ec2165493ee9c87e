/**
 * Encodes float32 data as NumPy's .npy format, version 1.0 (numpy/lib/format.py): the magic `\x93NUMPY`, the version bytes 1, 0, a
 * little-endian uint16 header length, then an ASCII header dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W, C), }` padded with spaces and ended by `\n` so that
 * magic + version + length + header is a multiple of 64 bytes, then the float32 little-endian data in C order.
 */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`encodeNpy: shape [${shape.join(", ")}] holds ${size} values, data has ${data.length}.`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, " ") + "\n";
  const out = new Uint8Array(total + data.length * 4);
  out.set(latin1Bytes("\x93NUMPY\x01\x00"), 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(latin1Bytes(header), prefix);
  const view = new DataView(out.buffer, total);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return out;
}

/** Parses what {@link encodeNpy} writes (float32, C order, version 1.0): for tests and for reading samples back. */
export function decodeNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array } {
  const magic = latin1Text(bytes.subarray(0, 6));
  if (magic !== "\x93NUMPY") throw new Error("decodeNpy: not a .npy file (bad magic).");
  if (bytes[6] !== 1 || bytes[7] !== 0) throw new Error(`decodeNpy: expected version 1.0, got ${bytes[6]}.${bytes[7]}.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint16(8, true);
  const header = latin1Text(bytes.subarray(10, 10 + headerLength));
  if ((10 + headerLength) % 64 !== 0) throw new Error("decodeNpy: the header is not padded to a multiple of 64 bytes.");
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False")) {
    throw new Error(`decodeNpy: only little-endian float32 in C order is supported, got header ${header.trim()}.`);
  }
  const match = /'shape': \(([^)]*)\)/.exec(header);
  if (!match) throw new Error(`decodeNpy: no shape in header ${header.trim()}.`);
  const shape = (match[1] as string)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const start = 10 + headerLength;
  if (bytes.length !== start + size * 4) throw new Error(`decodeNpy: expected ${size * 4} data bytes, got ${bytes.length - start}.`);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = view.getFloat32(start + i * 4, true);
  return { shape, data };
}

// Latin-1, one byte per character, as numpy reads and writes the header (TextDecoder's "latin1" is windows-1252, which
// would turn the magic's 0x93 into U+201C).
function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}
