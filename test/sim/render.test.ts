import { describe, it, expect } from "vitest";
import { inflateSync } from "node:zlib";
import { encodePng, padPng, PAD_CHUNK, tableCrc32 } from "../../src/sim/png.js";
import { renderImage, renderPixels, RENDER_DEFAULTS } from "../../src/sim/render.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Independent CRC-32 (IEEE, bitwise) so the test does not trust the encoder's own CRC source. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  data: Buffer;
  crcOk: boolean;
}

/** Just enough of a PNG reader to check our encoder: walks chunks and checks every CRC. */
function readChunks(png: Buffer): Chunk[] {
  const chunks: Chunk[] = [];
  let at = SIGNATURE.length;
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    const crc = png.readUInt32BE(at + 8 + len);
    chunks.push({ type, data, crcOk: crc === crc32(png.subarray(at + 4, at + 8 + len)) });
    at += 12 + len;
  }
  return chunks;
}

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
  raw: Buffer;
  /** The RGB pixel at (x, y), for filter-type-0 rows. */
  pixel(x: number, y: number): [number, number, number];
}

function decode(png: Buffer): Decoded {
  const chunks = readChunks(png);
  const ihdr = chunks.find((c) => c.type === "IHDR")!.data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === "IDAT").map((c) => c.data)));
  const stride = 1 + 3 * width;
  return {
    width,
    height,
    bitDepth: ihdr[8]!,
    colorType: ihdr[9]!,
    interlace: ihdr[12]!,
    raw,
    pixel: (x, y) => {
      const p = y * stride + 1 + x * 3;
      return [raw[p]!, raw[p + 1]!, raw[p + 2]!];
    },
  };
}

/** The RGB bytes from decoded scanlines, filter bytes dropped. */
function unfilter(d: Decoded): Buffer {
  const stride = 1 + 3 * d.width;
  const rows: Buffer[] = [];
  for (let y = 0; y < d.height; y++) rows.push(d.raw.subarray(y * stride + 1, (y + 1) * stride));
  return Buffer.concat(rows);
}

/** Share of bytes that differ by more than a small amount: "visibly different", not just a bit flip. */
function differingShare(a: Buffer, b: Buffer): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 8) n++;
  return n / a.length;
}

describe("sim png encoder", () => {
  // A 3x2 image with six distinct, hand-picked pixels.
  const pixels = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [10, 20, 30],
    [200, 100, 50],
    [255, 255, 255],
  ];
  const png = encodePng(3, 2, Buffer.from(pixels.flat()));

  it("sim - png starts with the PNG signature and has IHDR, IDAT, IEND in order", () => {
    expect([...png.subarray(0, 8)]).toEqual(SIGNATURE);
    expect(readChunks(png).map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
  });

  it("sim - png IHDR says width, height, 8-bit truecolour, no interlace", () => {
    const d = decode(png);
    expect(readChunks(png)[0]!.data.length).toBe(13);
    expect([d.width, d.height, d.bitDepth, d.colorType, d.interlace]).toEqual([3, 2, 8, 2, 0]);
  });

  it("sim - png every chunk carries a valid CRC", () => {
    const chunks = readChunks(png);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    // IEND's CRC is a constant of the format, a cross-check on the CRC itself.
    expect(png.readUInt32BE(png.length - 4)).toBe(0xae426082);
  });

  it("sim - png fallback CRC (for Node < 20.15) matches the CRC-32 check value", () => {
    // "123456789" → 0xCBF43926 is the standard CRC-32/ISO-HDLC check value.
    expect(tableCrc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(tableCrc32(png)).toBe(crc32(png));
  });

  it("sim - png decodes back to the exact pixels, each row prefixed by filter byte 0", () => {
    const d = decode(png);
    expect(d.raw.length).toBe(2 * (1 + 3 * 3));
    expect([d.raw[0], d.raw[10]]).toEqual([0, 0]);
    expect([d.pixel(0, 0), d.pixel(1, 0), d.pixel(2, 0), d.pixel(0, 1), d.pixel(1, 1), d.pixel(2, 1)]).toEqual(pixels);
  });

  it("sim - png refuses a buffer whose size does not match the dimensions", () => {
    expect(() => encodePng(3, 2, Buffer.alloc(17))).toThrow(RangeError);
    expect(() => encodePng(0, 2, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encodePng(1.5, 2, Buffer.alloc(9))).toThrow(RangeError);
  });
});

describe("sim png padding", () => {
  const png = renderImage({ prompt: "a lighthouse at dusk", seed: 42, width: 128, height: 128 });

  it("sim - padPng - reaches the asked base64 length with a private chunk before IEND, the image unchanged", () => {
    for (const chars of [100_000, 100_001, 100_002, 100_003, 524_288]) {
      const padded = padPng(png, chars);
      const b64 = padded.toString("base64").length;
      expect(b64).toBeGreaterThanOrEqual(chars);
      expect(b64).toBeLessThanOrEqual(chars + 3);
      const chunks = readChunks(padded);
      expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", PAD_CHUNK, "IEND"]);
      expect(chunks.every((c) => c.crcOk)).toBe(true);
      // Ancillary (bit 5 of the first letter set) and private (of the second): decoders skip it.
      expect(PAD_CHUNK.charCodeAt(0) & 0x20).toBe(0x20);
      expect(PAD_CHUNK.charCodeAt(1) & 0x20).toBe(0x20);
      expect(unfilter(decode(padded)).equals(unfilter(decode(png)))).toBe(true);
    }
  });

  it("sim - padPng - leaves a PNG that is already long enough as it is", () => {
    expect(padPng(png, 0)).toBe(png);
    expect(padPng(png, png.toString("base64").length)).toBe(png);
  });
});

describe("sim renderImage", () => {
  const spec = { prompt: "a lighthouse at dusk", seed: 42, width: 320, height: 192 };

  it("sim - rendered image is a valid PNG of the requested size", () => {
    const png = renderImage(spec);
    const d = decode(png);
    expect([...png.subarray(0, 8)]).toEqual(SIGNATURE);
    expect(readChunks(png).every((c) => c.crcOk)).toBe(true);
    expect([d.width, d.height, d.bitDepth, d.colorType]).toEqual([320, 192, 8, 2]);
    expect(d.raw.length).toBe(d.height * (1 + 3 * d.width));
  });

  it("sim - rendered PNG decodes to the rendered pixels", () => {
    const d = decode(renderImage(spec));
    const px = renderPixels(spec);
    expect(unfilter(d).equals(px)).toBe(true);
    // Spot-check corners and the centre against the raw pixel buffer.
    for (const [x, y] of [
      [0, 0],
      [319, 0],
      [0, 191],
      [319, 191],
      [160, 96],
    ] as const) {
      const p = (y * 320 + x) * 3;
      expect(d.pixel(x, y)).toEqual([px[p], px[p + 1], px[p + 2]]);
    }
  });

  it("sim - same prompt and seed give byte-identical images", () => {
    expect(renderImage(spec).equals(renderImage({ ...spec }))).toBe(true);
  });

  it("sim - different prompts give visibly different images", () => {
    const a = renderPixels(spec);
    const b = renderPixels({ ...spec, prompt: "a bowl of ramen" });
    expect(differingShare(a, b)).toBeGreaterThan(0.3);
  });

  it("sim - different seeds give visibly different images for the same prompt", () => {
    const a = renderPixels(spec);
    const b = renderPixels({ ...spec, seed: 43 });
    expect(differingShare(a, b)).toBeGreaterThan(0.3);
  });

  it("sim - an image is not a flat colour", () => {
    const px = renderPixels(spec);
    const colours = new Set<number>();
    for (let i = 0; i < px.length; i += 3) colours.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
    expect(colours.size).toBeGreaterThan(50);
  });

  it("sim - renders non-square and tiny sizes", () => {
    for (const [width, height] of [
      [1, 1],
      [1, 7],
      [720, 128],
    ] as const) {
      const d = decode(renderImage({ ...spec, width, height }));
      expect([d.width, d.height]).toEqual([width, height]);
      expect(d.raw.length).toBe(height * (1 + 3 * width));
    }
  });

  it("sim - refuses sizes beyond the Runware maximum or not positive integers", () => {
    expect(() => renderImage({ ...spec, width: RENDER_DEFAULTS.maxSide + 1 })).toThrow(RangeError);
    expect(() => renderImage({ ...spec, height: 0 })).toThrow(RangeError);
    expect(() => renderImage({ ...spec, width: 64.5 })).toThrow(RangeError);
  });

  it("sim - renders the largest allowed image (2048x2048)", () => {
    const side = RENDER_DEFAULTS.maxSide;
    const d = decode(renderImage({ ...spec, width: side, height: side }));
    expect([d.width, d.height]).toEqual([side, side]);
    expect(d.raw.length).toBe(side * (1 + 3 * side));
  });
});
