/**
 * A minimal valid ISO BMFF (MP4) or QuickTime (MOV) file holding one H.264 frame (h264.ts): ftyp,
 * moov (one video track with its sample table) and mdat, per ISO/IEC 14496-12 and 14496-15 (avcC).
 * Players and ffprobe read it as a one-second, one-frame video.
 */
import { encodePcmPicture, H264_CONSTRAINTS, H264_LEVEL, H264_PROFILE_BASELINE } from "./h264.js";

const TIMESCALE = 1000;
/** One frame shown for the whole second. */
const DURATION = 1000;
const IDENTITY_MATRIX = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];
/** ISO-639-2 "und", packed as three 5-bit letters. */
const LANGUAGE_UND = 0x55c4;

function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}
function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, "latin1"), body]);
}
function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, u8(version), u8(flags >> 16), u16(flags), ...parts);
}
function matrix(): Buffer {
  return Buffer.concat(IDENTITY_MATRIX.map(u32));
}

function sampleEntry(width: number, height: number, sps: Buffer, pps: Buffer): Buffer {
  const avcC = box(
    "avcC",
    u8(1), // configurationVersion
    u8(H264_PROFILE_BASELINE),
    u8(H264_CONSTRAINTS),
    u8(H264_LEVEL),
    u8(0xff), // reserved 111111 + lengthSizeMinusOne 3 (4-byte NAL lengths)
    u8(0xe1), // reserved 111 + one SPS
    u16(sps.length),
    sps,
    u8(1), // one PPS
    u16(pps.length),
    pps,
  );
  const compressor = Buffer.alloc(32);
  return box(
    "avc1",
    zeros(6),
    u16(1), // data_reference_index
    zeros(16), // pre_defined, reserved, pre_defined[3]
    u16(width),
    u16(height),
    u32(0x00480000), // 72 dpi
    u32(0x00480000),
    u32(0),
    u16(1), // frame_count
    compressor,
    u16(0x0018), // depth: colour, no alpha
    u16(0xffff), // pre_defined = -1
    avcC,
  );
}

function moov(width: number, height: number, sps: Buffer, pps: Buffer, sampleSize: number, sampleOffset: number): Buffer {
  const mvhd = fullBox(
    "mvhd",
    0,
    0,
    u32(0),
    u32(0),
    u32(TIMESCALE),
    u32(DURATION),
    u32(0x10000),
    u16(0x100),
    zeros(10),
    matrix(),
    zeros(24),
    u32(2),
  );
  const tkhd = fullBox(
    "tkhd",
    0,
    0x3, // enabled, in movie
    u32(0),
    u32(0),
    u32(1), // track_ID
    u32(0),
    u32(DURATION),
    zeros(8),
    u16(0), // layer
    u16(0), // alternate_group
    u16(0), // volume: not audio
    u16(0),
    matrix(),
    u32(width << 16),
    u32(height << 16),
  );
  const mdhd = fullBox("mdhd", 0, 0, u32(0), u32(0), u32(TIMESCALE), u32(DURATION), u16(LANGUAGE_UND), u16(0));
  const hdlr = fullBox("hdlr", 0, 0, u32(0), Buffer.from("vide", "latin1"), zeros(12), Buffer.from("VideoHandler\0", "latin1"));
  const vmhd = fullBox("vmhd", 0, 1, u16(0), zeros(6));
  const dinf = box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(1), sampleEntry(width, height, sps, pps)),
    fullBox("stts", 0, 0, u32(1), u32(1), u32(DURATION)),
    fullBox("stsc", 0, 0, u32(1), u32(1), u32(1), u32(1)),
    fullBox("stsz", 0, 0, u32(0), u32(1), u32(sampleSize)),
    fullBox("stco", 0, 0, u32(1), u32(sampleOffset)),
  );
  const mdia = box("mdia", mdhd, hdlr, box("minf", vmhd, dinf, stbl));
  return box("moov", mvhd, box("trak", tkhd, mdia));
}

export type VideoContainer = "mp4" | "mov";

/** The whole file: `mp4` brands it isom/avc1, `mov` brands it QuickTime (`qt  `). */
export function buildVideoFile(container: VideoContainer, width = 32, height = 32): Buffer {
  const { sps, pps, idr } = encodePcmPicture(width, height);
  const brands = container === "mov" ? ["qt  "] : ["isom", "iso2", "avc1", "mp41"];
  const ftyp = box("ftyp", Buffer.from(brands[0]!, "latin1"), u32(0x200), ...brands.map((b) => Buffer.from(b, "latin1")));
  const sample = Buffer.concat([u32(idr.length), idr]);
  // moov's size does not depend on the offset value, so build it once to measure, then for real.
  const moovSize = moov(width, height, sps, pps, sample.length, 0).length;
  const offset = ftyp.length + moovSize + 8;
  return Buffer.concat([ftyp, moov(width, height, sps, pps, sample.length, offset), box("mdat", sample)]);
}
