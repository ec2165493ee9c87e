// IEEE 754 binary16 ("half", safetensors' F16, numpy's float16, PyTorch's HalfStorage) to and from float32.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * float32 -> IEEE 754 binary16 bits, rounding to nearest, ties to even (as numpy's astype(float16) does).
 * Overflow gives +-Infinity (0x7C00), values below half the smallest subnormal (2^-25) give +-0, NaN stays NaN.
 *
 * @example
 * float32ToFloat16(1) === 0x3c00; float32ToFloat16(65504) === 0x7bff; float32ToFloat16(1e-8) === 0
 */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf or (quiet) NaN
  const e = exp - 127 + 15; // the binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // Subnormal (or zero): value = m * 2^-24 with m = (1.mant) * 2^(e + 9), i.e. the full mantissa >> (14 - e).
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rem > half || (rem === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r++; // a carry may round up into the exponent, or to Inf
  return sign | r;
}

/** IEEE 754 binary16 bits -> the number they encode (exact). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
