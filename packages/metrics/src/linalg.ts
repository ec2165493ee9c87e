// Float64 linear algebra on flat row-major Float64Arrays: the dot-product kernel behind covariances, kernels and
// distances, and a symmetric eigensolver. Plain loops (V8 runs them at about 1 GFLOP/s); no tensors, no float32.

/**
 * Dot products of rows: `out[i * n + j] = sum_k a[i * d + k] * b[j * d + k]`, i.e. `out = A B^T` for `A` `[m, d]`
 * and `B` `[n, d]`, both row-major. With `upper` (A and B the same matrix) only the entries `j >= i` are written;
 * with `accumulate` they are added to `out` instead of overwriting it.
 *
 * A 2x2 register block (four running sums share each loaded value) over tiles of B that stay in cache.
 */
export function gemmNT(
  a: Float64Array,
  m: number,
  b: Float64Array,
  n: number,
  d: number,
  out: Float64Array,
  options: { upper?: boolean; accumulate?: boolean } = {},
): void {
  const upper = options.upper ?? false;
  const acc = options.accumulate ?? false;
  const tile = Math.max(2, 2 * Math.floor(16384 / Math.max(1, d))); // about 256 KiB of B rows, even
  for (let jt = 0; jt < n; jt += tile) {
    const jEnd = Math.min(n, jt + tile);
    for (let i = 0; i < m; i += 2) {
      const i1 = i + 1 < m ? i + 1 : i;
      const a0 = i * d;
      const a1 = i1 * d;
      let jStart = jt;
      if (upper) {
        if (jEnd <= i) continue;
        if (jStart < i) jStart = i;
      }
      for (let j = jStart; j < jEnd; j += 2) {
        const j1 = j + 1 < jEnd ? j + 1 : j;
        const b0 = j * d;
        const b1 = j1 * d;
        let s00 = 0;
        let s01 = 0;
        let s10 = 0;
        let s11 = 0;
        for (let k = 0; k < d; k++) {
          const x0 = a[a0 + k] as number;
          const x1 = a[a1 + k] as number;
          const y0 = b[b0 + k] as number;
          const y1 = b[b1 + k] as number;
          s00 += x0 * y0;
          s01 += x0 * y1;
          s10 += x1 * y0;
          s11 += x1 * y1;
        }
        const o0 = i * n;
        const o1 = i1 * n;
        if (acc) {
          out[o0 + j] = (out[o0 + j] as number) + s00;
          if (j1 !== j) out[o0 + j1] = (out[o0 + j1] as number) + s01;
          if (i1 !== i) {
            if (!upper || j >= i1) out[o1 + j] = (out[o1 + j] as number) + s10;
            if (j1 !== j) out[o1 + j1] = (out[o1 + j1] as number) + s11;
          }
        } else {
          out[o0 + j] = s00;
          if (j1 !== j) out[o0 + j1] = s01;
          if (i1 !== i) {
            if (!upper || j >= i1) out[o1 + j] = s10;
            if (j1 !== j) out[o1 + j1] = s11;
          }
        }
      }
    }
  }
}

/** Copies the upper triangle of a square row-major matrix onto its lower triangle. */
export function mirrorUpper(s: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s[j * n + i] = s[i * n + j] as number;
}

/** The result of {@link symmetricEigen}: ascending eigenvalues and, if asked for, the eigenvectors as rows. */
export interface SymmetricEigen {
  /** `[n]`, ascending. */
  values: Float64Array;
  /** `[n, n]` row-major, row `k` the unit eigenvector of `values[k]` (so this is V^T); null for values only. */
  vectors: Float64Array | null;
}

/**
 * Eigendecomposition A = V diag(values) V^T of a real symmetric `[n, n]` matrix (only its lower triangle is read):
 * Householder reduction to tridiagonal form, then the implicit QL algorithm (EISPACK tred2 and tql2, as in JAMA),
 * on flat float64 storage laid out so that every inner loop runs over contiguous memory. Without `vectors`, the
 * transformations are not accumulated, which halves the reduction and makes QL O(n^2).
 *
 * Backward stable: the computed eigenvalues are exact for a matrix within about n * 2^-52 * ||A|| of A.
 */
export function symmetricEigen(a: Float64Array, n: number, options: { vectors: boolean }): SymmetricEigen {
  if (a.length !== n * n) {
    throw new Error(`symmetricEigen: expected ${n * n} values for [${n}, ${n}], got ${a.length}.`);
  }
  // T holds V transposed: T[j * n + k] = V[k][j]. Starting from V = A (symmetric), T = A.
  const t = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 1) {
    d[0] = a[0] as number;
    if (options.vectors) t[0] = 1;
    return { values: d, vectors: options.vectors ? t : null };
  }
  tred2(n, t, d, e, options.vectors);
  tql2(n, t, d, e, options.vectors);
  return { values: d, vectors: options.vectors ? t : null };
}

function tred2(n: number, t: Float64Array, d: Float64Array, e: Float64Array, accumulate: boolean): void {
  for (let j = 0; j < n; j++) d[j] = t[j * n + n - 1] as number;
  for (let i = n - 1; i > 0; i--) {
    // Scale to avoid under- or overflow.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j++) {
        d[j] = t[j * n + i - 1] as number;
        t[j * n + i] = 0;
        t[i * n + j] = 0;
      }
    } else {
      // 1. Generate the Householder vector.
      for (let k = 0; k < i; k++) {
        const v = (d[k] as number) / scale;
        d[k] = v;
        h += v * v;
      }
      let f = d[i - 1] as number;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      e.fill(0, 0, i);
      // 2. Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        t[i * n + j] = f;
        const row = j * n;
        g = (e[j] as number) + (t[row + j] as number) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = t[row + k] as number;
          g += v * (d[k] as number);
          e[k] = (e[k] as number) + v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        const v = (e[j] as number) / h;
        e[j] = v;
        f += v * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        g = e[j] as number;
        const row = j * n;
        for (let k = j; k <= i - 1; k++) {
          t[row + k] = (t[row + k] as number) - (f * (e[k] as number) + g * (d[k] as number));
        }
        d[j] = t[row + i - 1] as number;
        t[row + i] = 0;
      }
    }
    d[i] = h;
  }
  if (!accumulate) {
    for (let j = 0; j < n; j++) d[j] = t[j * n + j] as number;
    e[0] = 0;
    return;
  }
  // 3. Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    t[i * n + n - 1] = t[i * n + i] as number;
    t[i * n + i] = 1;
    const h = d[i + 1] as number;
    const r1 = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = (t[r1 + k] as number) / h;
      for (let j = 0; j <= i; j++) {
        const rj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += (t[r1 + k] as number) * (t[rj + k] as number);
        for (let k = 0; k <= i; k++) t[rj + k] = (t[rj + k] as number) - g * (d[k] as number);
      }
    }
    for (let k = 0; k <= i; k++) t[r1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = t[j * n + n - 1] as number;
    t[j * n + n - 1] = 0;
  }
  t[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function tql2(n: number, t: Float64Array, d: Float64Array, e: Float64Array, vectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // 1. Find a small subdiagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m] as number) <= eps * tst1) break;
      m++;
    }
    // 2. If m == l, d[l] is an eigenvalue; otherwise iterate.
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error(`symmetricEigen: the QL iteration did not converge (n = ${n}).`);
        // Implicit shift.
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        // Implicit QL transformation.
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const ei = e[i] as number;
          const di = d[i] as number;
          g = c * ei;
          h = c * p;
          r = hypot(p, ei);
          e[i + 1] = s * r;
          s = ei / r;
          c = p / r;
          p = c * di - s * g;
          d[i + 1] = h + s * (c * g + s * di);
          if (vectors) rotateRows(t, i * n, n, c, s);
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > eps * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
  // 3. Sort ascending, moving the eigenvector rows along.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i] as number;
    for (let j = i + 1; j < n; j++) {
      if ((d[j] as number) < p) {
        k = j;
        p = d[j] as number;
      }
    }
    if (k !== i) {
      d[k] = d[i] as number;
      d[i] = p;
      if (vectors) {
        const ri = i * n;
        const rk = k * n;
        for (let j = 0; j < n; j++) {
          const v = t[ri + j] as number;
          t[ri + j] = t[rk + j] as number;
          t[rk + j] = v;
        }
      }
    }
  }
}

/** Rotates eigenvector rows `r` and `r + 1` of `t` (columns of V) by the Givens rotation (c, s). */
function rotateRows(t: Float64Array, offset: number, n: number, c: number, s: number): void {
  const next = offset + n;
  for (let k = 0; k < n; k++) {
    const h = t[next + k] as number;
    const v = t[offset + k] as number;
    t[next + k] = s * v + c * h;
    t[offset + k] = c * v - s * h;
  }
}

/** sqrt(a^2 + b^2) without overflow (faster than Math.hypot in V8). */
function hypot(a: number, b: number): number {
  const aa = Math.abs(a);
  const bb = Math.abs(b);
  if (aa > bb) {
    const r = b / a;
    return aa * Math.sqrt(1 + r * r);
  }
  if (bb !== 0) {
    const r = a / b;
    return bb * Math.sqrt(1 + r * r);
  }
  return 0;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_CODES = Uint8Array.from(B64, (c) => c.charCodeAt(0));
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** The IEEE-754 bytes of `values`, little-endian, as standard base64: float64 round-trips bit for bit. */
export function float64ToBase64(values: Float64Array): string {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
  const chars = new Uint8Array(4 * Math.ceil(bytes.length / 3));
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const rest = bytes.length - i;
    const b0 = bytes[i] as number;
    const b1 = rest > 1 ? (bytes[i + 1] as number) : 0;
    const b2 = rest > 2 ? (bytes[i + 2] as number) : 0;
    chars[o++] = B64_CODES[b0 >> 2] as number;
    chars[o++] = B64_CODES[((b0 & 3) << 4) | (b1 >> 4)] as number;
    chars[o++] = rest > 1 ? (B64_CODES[((b1 & 15) << 2) | (b2 >> 6)] as number) : 61;
    chars[o++] = rest > 2 ? (B64_CODES[b2 & 63] as number) : 61;
  }
  return new TextDecoder("ascii").decode(chars);
}

/** Inverse of {@link float64ToBase64}; `what` and `fn` name the field in errors, `length` is the expected count. */
export function float64FromBase64(text: unknown, length: number, what: string, fn: string): Float64Array {
  if (typeof text !== "string") throw new Error(`${fn}: ${what} must be a base64 string.`);
  const nBytes = length * 8;
  if (text.length !== 4 * Math.ceil(nBytes / 3)) {
    throw new Error(
      `${fn}: ${what} must encode ${length} float64 values (${nBytes} bytes), got ${text.length} base64 characters.`,
    );
  }
  const bytes = new Uint8Array(nBytes);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let triple = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text.charCodeAt(i + k);
      let v = ch < 128 ? (B64_INDEX[ch] as number) : -1;
      if (ch === 61 && k >= 2 && i + 4 === text.length) v = 0; // "=" padding
      if (v < 0) throw new Error(`${fn}: ${what} is not valid base64 (character ${i + k}).`);
      triple = (triple << 6) | v;
    }
    if (o < nBytes) bytes[o++] = (triple >> 16) & 255;
    if (o < nBytes) bytes[o++] = (triple >> 8) & 255;
    if (o < nBytes) bytes[o++] = triple & 255;
  }
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}
