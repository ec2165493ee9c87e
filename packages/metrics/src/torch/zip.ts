/**
 * The part of the zip format (PKWARE APPNOTE 6.3.9) that PyTorch's archives use, read with limits: the central
 * directory is parsed first, so every entry's declared size is known before anything is inflated, and an entry is
 * inflated with a cap at that size (a zip bomb that under-declares stops at the cap, one that declares gigabytes is
 * refused before it starts).
 *
 *     [local header 0x04034b50, name, extra, data] ... [central directory: 0x02014b50 per entry]
 *     [zip64 end of central directory 0x06064b50, its locator 0x07064b50]   (torch always writes these)
 *     [end of central directory 0x06054b50, comment]
 *
 * Stored entries (method 0, what torch writes) are returned as views of the archive, without a copy; deflated ones
 * (method 8, from re-zipped files) are inflated by node:zlib. CRC-32s are checked where node:zlib has `crc32`
 * (Node >= 20.15).
 */
import { constants as bufferConstants } from "node:buffer";
import * as zlib from "node:zlib";

/** One file of the archive as its central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 (stored) or 8 (deflate). */
  readonly method: number;
  readonly compressedSize: number;
  /** Uncompressed size, as declared. */
  readonly size: number;
  readonly crc32: number;
  /** Offset of the entry's data in the archive (after its local header). */
  readonly dataOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * Reads the central directory of the zip archive `bytes`. `where` starts every error message (e.g.
 * `"readTorchStateDict: model.pth"`); every structural problem says "is not a readable zip archive". `kind` names what
 * the file looked like (default "a PyTorch zip file"; `.npz` files are zip archives too).
 */
export function readZipDirectory(bytes: Uint8Array, where: string, kind = "a PyTorch zip file"): Map<string, ZipEntry> {
  const corrupt = (what: string): Error =>
    new Error(`${where} starts like ${kind} but is not a readable zip archive (${what}); it is probably truncated or corrupt: download or save it again.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u64 = (at: number, what: string): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} is ${v}`);
    return Number(v);
  };
  const inside = (at: number, n: number, what: string): void => {
    if (!(at >= 0 && n >= 0 && at + n <= bytes.length)) throw corrupt(`${what} at bytes ${at}..${at + n} lies outside the ${bytes.length}-byte file`);
  };

  // The end record is the last 22 bytes, unless a comment (at most 65535 bytes) follows it.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= 0 && at >= bytes.length - 22 - 0xffff; at--) {
    if (u32(at) === EOCD && at + 22 + u16(at + 20) === bytes.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw corrupt("no end-of-central-directory record");
  let count = u16(eocd + 10);
  let dirSize = u32(eocd + 12);
  let dirOffset = u32(eocd + 16);
  if (eocd >= 20 && u32(eocd - 20) === EOCD64_LOCATOR) {
    const at = u64(eocd - 20 + 8, "the zip64 end record's offset");
    inside(at, 56, "the zip64 end record");
    if (u32(at) !== EOCD64) throw corrupt(`no zip64 end record at byte ${at}, where its locator points`);
    count = u64(at + 32, "the zip64 entry count");
    dirSize = u64(at + 40, "the zip64 central directory size");
    dirOffset = u64(at + 48, "the zip64 central directory offset");
  }
  inside(dirOffset, dirSize, "the central directory");
  // Every central header takes at least 46 bytes: a count that cannot fit is corrupt (and would loop for nothing).
  if (count * 46 > dirSize) throw corrupt(`${count} entries cannot fit in a ${dirSize}-byte central directory`);

  const entries = new Map<string, ZipEntry>();
  const names = new TextDecoder("utf-8", { fatal: true });
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    inside(at, 46, `central directory entry ${i}`);
    if (u32(at) !== CENTRAL) throw corrupt(`central directory entry ${i} at byte ${at} has no signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localOffset = u32(at + 42);
    inside(at + 46, nameLength + extraLength + commentLength, `central directory entry ${i}'s name and extra fields`);
    let name: string;
    try {
      name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      throw corrupt(`central directory entry ${i} has a name that is not UTF-8`);
    }
    // Zip64 extra field (id 1): the 64-bit values of the fields that hold 0xffffffff, in this order.
    const extraEnd = at + 46 + nameLength + extraLength;
    for (let e = at + 46 + nameLength; e + 4 <= extraEnd; ) {
      const id = u16(e);
      const length = u16(e + 2);
      if (e + 4 + length > extraEnd) throw corrupt(`entry ${name}'s extra field overruns its header`);
      if (id === 1) {
        let f = e + 4;
        const take = (what: string): number => {
          if (f + 8 > e + 4 + length) throw corrupt(`entry ${name}'s zip64 field has no ${what}`);
          const v = u64(f, `entry ${name}'s ${what}`);
          f += 8;
          return v;
        };
        if (size === 0xffffffff) size = take("size");
        if (compressedSize === 0xffffffff) compressedSize = take("compressed size");
        if (localOffset === 0xffffffff) localOffset = take("offset");
      }
      e += 4 + length;
    }
    if (flags & 1) throw corrupt(`entry ${name} is encrypted`);
    if (method !== 0 && method !== 8) throw corrupt(`entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are read`);
    if (method === 0 && compressedSize !== size) throw corrupt(`stored entry ${name} declares ${size} bytes but holds ${compressedSize}`);
    if (entries.has(name)) throw corrupt(`entry ${name} appears twice`);
    inside(localOffset, 30, `entry ${name}'s local header`);
    if (u32(localOffset) !== LOCAL) throw corrupt(`entry ${name}'s local header at byte ${localOffset} has no signature`);
    const dataOffset = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    inside(dataOffset, compressedSize, `entry ${name}'s data`);
    entries.set(name, { name, method, compressedSize, size, crc32: crc, dataOffset });
    at = extraEnd + commentLength;
  }
  return entries;
}

/**
 * The bytes of one entry: a view for a stored entry, a fresh array for a deflated one, inflated with a cap at its
 * declared size (the caller checks that size against its budget first). `where` starts every error message.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, where: string): Uint8Array {
  const data = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  let out: Uint8Array;
  if (entry.method === 0) {
    out = data;
  } else {
    try {
      // maxOutputLength stops zlib as soon as the output passes the cap (it must be at least 1 and at most a Buffer's
      // largest size).
      const buf = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, Math.min(entry.size, bufferConstants.MAX_LENGTH)) });
      out = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ERR_BUFFER_TOO_LARGE") {
        throw new Error(`${where} (${entry.name}) inflates to more than the ${entry.size} bytes its central directory entry declares; the archive is corrupt or a zip bomb.`);
      }
      throw new Error(`${where} (${entry.name}) is not a readable deflate stream (${error instanceof Error ? error.message : String(error)}); the file is truncated or corrupt.`);
    }
    if (out.length !== entry.size) {
      throw new Error(`${where} (${entry.name}) inflates to ${out.length} bytes but its central directory entry declares ${entry.size}; the file is truncated or corrupt.`);
    }
  }
  if (crc32 !== undefined && crc32(out) >>> 0 !== entry.crc32) {
    throw new Error(`${where} (${entry.name}) fails its CRC-32 check (the archive says ${hex(entry.crc32)}, the data gives ${hex(crc32(out) >>> 0)}); the file is corrupt.`);
  }
  return out;
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, "0")}`;
}
