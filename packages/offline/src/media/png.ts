/**
 * Minimal PNG encoder (8-bit RGBA, non-interlaced) and IHDR size reader.
 */
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';
import { assertImage, type RgbaImage } from './image.js';

export const PNG_SIGNATURE: Readonly<Uint8Array> = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC / zlib polynomial), as used by PNG chunks. */
export function crc32(bytes: Uint8Array, initial = 0): number {
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = (CRC_TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

/**
 * Filters one scanline with the given PNG filter type into `out`
 * (which has room for the filter-type byte followed by the row).
 */
function filterRow(filter: number, row: Uint8Array, prev: Uint8Array | null, out: Uint8Array): number {
  const bpp = 4;
  out[0] = filter;
  let cost = 0;
  for (let i = 0; i < row.length; i++) {
    const x = row[i] ?? 0;
    const a = i >= bpp ? (row[i - bpp] ?? 0) : 0;
    const b = prev ? (prev[i] ?? 0) : 0;
    const c = prev && i >= bpp ? (prev[i - bpp] ?? 0) : 0;
    let v: number;
    switch (filter) {
      case 1:
        v = x - a;
        break;
      case 2:
        v = x - b;
        break;
      case 3:
        v = x - ((a + b) >> 1);
        break;
      case 4:
        v = x - paeth(a, b, c);
        break;
      default:
        v = x;
    }
    const byte = v & 0xff;
    out[i + 1] = byte;
    cost += byte < 128 ? byte : 256 - byte;
  }
  return cost;
}

export interface PngOptions {
  /**
   * Scanline filter: 'adaptive' (default) picks, per row, whichever of the
   * five standard filters minimises the sum of absolute filtered values;
   * 0–4 (None, Sub, Up, Average, Paeth) forces one filter for every row.
   */
  filter?: 'adaptive' | 0 | 1 | 2 | 3 | 4;
  /** zlib compression level 0–9 (default 6). */
  level?: number;
}

/**
 * Encodes an RGBA image as a PNG (colour type 6, bit depth 8, no interlace),
 * zlib-deflated with node:zlib.
 */
export function encodePng(image: RgbaImage, options: PngOptions = {}): Buffer {
  assertImage(image);
  const filterOpt = options.filter ?? 'adaptive';
  if (filterOpt !== 'adaptive' && ![0, 1, 2, 3, 4].includes(filterOpt)) {
    throw new RangeError(`filter must be 'adaptive' or 0..4, got ${String(filterOpt)}`);
  }
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`level must be an integer 0..9, got ${String(level)}`);
  }
  const firstFilter = filterOpt === 'adaptive' ? 0 : filterOpt;
  const lastFilter = filterOpt === 'adaptive' ? 4 : filterOpt;
  const { width, height, data } = image;
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  const scratch = new Uint8Array(stride + 1);
  const best = new Uint8Array(stride + 1);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? data.subarray((y - 1) * stride, y * stride) : null;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let f = firstFilter; f <= lastFilter; f++) {
      const cost = filterRow(f, row, prev, scratch);
      if (cost < bestCost) {
        bestCost = cost;
        best.set(scratch);
      }
    }
    raw.set(best, y * (stride + 1));
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: truecolour with alpha
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace

  return Buffer.concat([
    Buffer.from(PNG_SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Reads width/height from a PNG's IHDR chunk after validating the signature. */
export function decodePngSize(buf: Uint8Array): { width: number; height: number } {
  if (buf.length < 33) throw new Error('not a PNG: buffer too short');
  for (let i = 0; i < PNG_SIGNATURE.length; i++) {
    if (buf[i] !== PNG_SIGNATURE[i]) throw new Error('not a PNG: bad signature');
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG: first chunk is not a 13-byte IHDR');
  }
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  if (width === 0 || height === 0) throw new Error('invalid PNG: zero width or height');
  return { width, height };
}
