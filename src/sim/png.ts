/**
 * A minimal PNG encoder for the simulator's fake images: 8-bit truecolour (RGB), no interlace,
 * filter type 0 (None) on every row, one IDAT chunk. Correct per the PNG spec (ISO/IEC 15948),
 * small and fast rather than small-output: the simulator only needs real, decodable images.
 */
import zlib from "node:zlib";

/** Knobs for the encoder; fixed by the PNG format except the deflate level. */
const PNG_DEFAULTS = {
  /** zlib level 1: fastest; a 2048² image deflates in tens of ms instead of hundreds at level 6+. */
  deflateLevel: 1,
} as const;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BIT_DEPTH = 8;
const COLOR_TYPE_RGB = 2;
const BYTES_PER_PIXEL = 3;
const FILTER_NONE = 0;
/** PNG dimensions are 31-bit unsigned (PNG spec §11.2.2). */
const MAX_DIMENSION = 0x7fffffff;

/** CRC-32 (IEEE) as PNG needs it. `zlib.crc32` exists from Node 20.15; older 20.x gets a table CRC. */
const crc32: (data: Buffer) => number = typeof (zlib as { crc32?: unknown }).crc32 === "function" ? (data) => zlib.crc32(data) : tableCrc32;

let crcTable: Uint32Array | undefined;
/** Table-driven CRC-32; exported so the fallback is tested on Nodes that have `zlib.crc32`. */
export function tableCrc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC over type+data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode `rgb` (row-major, 3 bytes a pixel, no padding) as a PNG file. */
export function encodePng(width: number, height: number, rgb: Buffer): Buffer {
  for (const [name, v] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION)
      throw new RangeError(`png ${name} must be an integer in 1..${MAX_DIMENSION}, got ${v}`);
  }
  const rowBytes = width * BYTES_PER_PIXEL;
  if (rgb.length !== rowBytes * height) {
    throw new RangeError(`png rgb buffer is ${rgb.length} bytes, expected ${rowBytes * height} for ${width}x${height}`);
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = BIT_DEPTH;
  ihdr[9] = COLOR_TYPE_RGB;
  // bytes 10-12: compression 0 (deflate), filter method 0, interlace 0 (none): already zero.

  // Each scanline is prefixed with its filter-type byte.
  const raw = Buffer.allocUnsafe((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (rowBytes + 1);
    raw[at] = FILTER_NONE;
    rgb.copy(raw, at + 1, y * rowBytes, (y + 1) * rowBytes);
  }
  const idat = zlib.deflateSync(raw, { level: PNG_DEFAULTS.deflateLevel });

  return Buffer.concat([SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]);
}

/**
 * Padding chunk type: lowercase 1st letter = ancillary, 2nd = private, uppercase 3rd = reserved
 * bit clear, lowercase 4th = safe to copy (PNG spec §5.4). Decoders skip a chunk they do not know.
 */
export const PAD_CHUNK = "rwPd";
/** Length, type and CRC around a chunk's data; IEND is exactly this (no data). */
const CHUNK_OVERHEAD = 12;

/**
 * `png` (one of encodePng's, ending in IEND) with a zero-filled PAD_CHUNK before IEND so that its
 * base64 text is at least `base64Chars` long (at most 3 more); unchanged when it already is.
 */
export function padPng(png: Buffer, base64Chars: number): Buffer {
  const needBytes = Math.ceil((base64Chars * 3) / 4);
  const padBytes = needBytes - png.length - CHUNK_OVERHEAD;
  if (padBytes < 0) return png;
  const iendAt = png.length - CHUNK_OVERHEAD;
  return Buffer.concat([png.subarray(0, iendAt), chunk(PAD_CHUNK, Buffer.alloc(padBytes)), png.subarray(iendAt)]);
}
