/**
 * Encodes float32 (or float64) data as NumPy's .npy format, version 1.0 (numpy/lib/format.py): the magic `\x93NUMPY`,
 * the version bytes 1, 0, a little-endian uint16 header length, then an ASCII header dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W, C), }` padded with spaces and ended by `\n` so that
 * magic + version + length + header is a multiple of 64 bytes, then the data, little-endian, in C order. A
 * `Float64Array` is written as `'<f8'`.
 */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`encodeNpy: shape [${shape.join(", ")}] holds ${size} values, data has ${data.length}.`);
  const f64 = data instanceof Float64Array;
  const width = f64 ? 8 : 4;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${f64 ? "<f8" : "<f4"}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, " ") + "\n";
  const out = new Uint8Array(total + data.length * width);
  out.set(latin1Bytes("\x93NUMPY\x01\x00"), 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(latin1Bytes(header), prefix);
  const view = new DataView(out.buffer, total);
  if (f64) for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i] as number, true);
  else for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return out;
}

/** Parses what {@link encodeNpy} writes (float32, C order): for tests and for reading samples back. */
export function decodeNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array } {
  const out = decodeNpyArray(bytes, "decodeNpy", true);
  return { shape: out.shape, data: out.data as Float32Array };
}

/**
 * Parses a `.npy` file of little-endian float32 (`<f4`) or float64 (`<f8`) in C order, as `numpy.save` writes it, in
 * any of the format's versions (1.0, 2.0 and 3.0, which differ in the header's length field and encoding). float64
 * data stays float64, so that features written by numpy reach float64 arithmetic unrounded. Anything else (another
 * dtype or byte order, Fortran order, a truncated or padded file) is refused with an error that starts with `caller`.
 * `float32Only` refuses float64 as well (what {@link decodeNpy} promises).
 */
export function decodeNpyArray(bytes: Uint8Array, caller = "decodeNpyArray", float32Only = false): { shape: number[]; dtype: "float32" | "float64"; data: Float32Array | Float64Array } {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${caller}: expected the file's bytes as a Uint8Array.`);
  if (bytes.length < 10 || latin1Text(bytes.subarray(0, 6)) !== "\x93NUMPY") throw new Error(`${caller}: not a .npy file (bad magic).`);
  const major = bytes[6] as number;
  const minor = bytes[7] as number;
  if (![1, 2, 3].includes(major) || minor !== 0) throw new Error(`${caller}: expected .npy version 1.0, 2.0 or 3.0, got ${major}.${minor}.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new Error(`${caller}: the file ends inside its header.`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes + headerLength;
  if (start > bytes.length) throw new Error(`${caller}: the header says ${headerLength} bytes, but the file ends before them.`);
  const headerBytes = bytes.subarray(8 + lengthBytes, start);
  const header = major === 3 ? new TextDecoder("utf-8").decode(headerBytes) : latin1Text(headerBytes);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== "<f4" && descr !== "<f8") throw new Error(`${caller}: only little-endian float32 ('<f4') or float64 ('<f8') is supported, got descr ${JSON.stringify(descr ?? null)} in header ${header.trim()}.`);
  if (float32Only && descr === "<f8") throw new Error(`${caller}: only little-endian float32 is supported here, got float64; decodeNpyArray reads float64 too.`);
  if (!/'fortran_order':\s*False/.test(header)) throw new Error(`${caller}: only C order (fortran_order False) is supported, got header ${header.trim()}; save numpy.ascontiguousarray(x).`);
  const match = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!match) throw new Error(`${caller}: no shape in header ${header.trim()}.`);
  const shape = (match[1] as string)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${caller}: the shape (${match[1]}) must hold non-negative integers.`);
  const size = shape.reduce((a, b) => a * b, 1);
  const width = descr === "<f4" ? 4 : 8;
  if (bytes.length !== start + size * width) throw new Error(`${caller}: expected ${size * width} data bytes, got ${bytes.length - start} (shape [${shape.join(", ")}], ${width}-byte values).`);
  if (descr === "<f4") {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(start + i * 4, true);
    return { shape, dtype: "float32", data };
  }
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = view.getFloat64(start + i * 8, true);
  return { shape, dtype: "float64", data };
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
