import { describe, it, expect } from "vitest";
import { buildMp3, buildWav } from "../../src/sim/media/audio.js";
import { encodePcmPicture } from "../../src/sim/media/h264.js";
import { buildVideoFile } from "../../src/sim/media/mp4.js";

/** Children of an ISO BMFF box body as type → body. */
function boxes(buf: Buffer, from = 0, to = buf.length): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let at = from; at < to;) {
    const size = buf.readUInt32BE(at);
    expect(size, `box at ${at}`).toBeGreaterThanOrEqual(8);
    expect(at + size).toBeLessThanOrEqual(to);
    out.set(buf.toString("latin1", at + 4, at + 8), buf.subarray(at + 8, at + size));
    at += size;
  }
  return out;
}

/** Follow a path of container boxes; `skip` bytes of full-box header or entry fields before children. */
function dig(file: Buffer, path: Array<[string, number]>): Buffer {
  let body = file;
  for (const [type, skip] of path) {
    const child = boxes(body).get(type);
    expect(child, type).toBeDefined();
    body = child!.subarray(skip);
  }
  return body;
}

/** No start code can be emulated inside a NAL unit: 00 00 followed by 00..03 never occurs. */
function hasEmulation(nal: Buffer): boolean {
  for (let i = 2; i < nal.length; i++) if (nal[i - 2] === 0 && nal[i - 1] === 0 && nal[i]! <= 3) return true;
  return false;
}

describe("sim - media files", () => {
  it("sim - the MP4 is ftyp, moov and mdat tiling the file, with an avc1 track whose one sample is the IDR picture in mdat", () => {
    const file = buildVideoFile("mp4");
    expect([...boxes(file).keys()]).toEqual(["ftyp", "moov", "mdat"]);
    expect(file.toString("latin1", 8, 12)).toBe("isom");
    const stbl = dig(file, [
      ["moov", 0],
      ["trak", 0],
      ["mdia", 0],
      ["minf", 0],
      ["stbl", 0],
    ]);
    const tables = boxes(stbl);
    expect([...tables.keys()]).toEqual(["stsd", "stts", "stsc", "stsz", "stco"]);
    const avc1 = boxes(tables.get("stsd")!, 8).get("avc1")!;
    expect([avc1.readUInt16BE(24), avc1.readUInt16BE(26)]).toEqual([32, 32]);
    const avcC = boxes(avc1, 78).get("avcC")!;
    expect([avcC[0], avcC[1], avcC[3]]).toEqual([1, 66, 10]); // version, Baseline, level 1.0
    expect(avcC[8]! & 0x1f).toBe(7); // after the SPS length: the SPS NAL unit

    const size = tables.get("stsz")!.readUInt32BE(12);
    const offset = tables.get("stco")!.readUInt32BE(8);
    const sample = file.subarray(offset, offset + size);
    expect(offset + size).toBe(file.length); // the sample is all of mdat's payload
    expect(sample.readUInt32BE(0)).toBe(size - 4); // one length-prefixed NAL unit
    expect(sample[4]! & 0x1f).toBe(5); // IDR slice
    expect(file.length).toBeLessThan(4096);
  });

  it("sim - the MOV is the same stream branded QuickTime, and both are byte-for-byte deterministic", () => {
    const mov = buildVideoFile("mov");
    expect(mov.toString("latin1", 4, 12)).toBe("ftypqt  ");
    expect([...boxes(mov).keys()]).toEqual(["ftyp", "moov", "mdat"]);
    expect(buildVideoFile("mov").equals(mov)).toBe(true);
    expect(buildVideoFile("mp4").equals(buildVideoFile("mp4"))).toBe(true);
  });

  it("sim - the H.264 picture is one I_PCM macroblock per 16x16 with emulation prevention in every NAL unit", () => {
    const { sps, pps, idr } = encodePcmPicture(48, 32);
    expect([sps[0], pps[0], idr[0]]).toEqual([0x67, 0x68, 0x65]);
    for (const nal of [sps, pps, idr]) expect(hasEmulation(nal)).toBe(false);
    // 6 macroblocks of 384 raw samples each, plus headers
    expect(idr.length).toBeGreaterThan(6 * 384);
    expect(idr.length).toBeLessThan(6 * 384 + 32);
    expect(() => encodePcmPicture(20, 16)).toThrow(RangeError);
  });

  it("sim - the WAV is RIFF/WAVE PCM mono 16-bit with consistent sizes, and the MP3 is whole 417-byte MPEG-1 Layer III frames", () => {
    const wav = buildWav();
    expect(wav.toString("latin1", 0, 4)).toBe("RIFF");
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString("latin1", 8, 16)).toBe("WAVEfmt ");
    expect([wav.readUInt16LE(20), wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)]).toEqual([1, 1, 8000, 16]);
    expect(wav.toString("latin1", 36, 40)).toBe("data");
    expect(wav.readUInt32LE(40)).toBe(wav.length - 44);

    const mp3 = buildMp3();
    expect(mp3.length % 417).toBe(0);
    for (let at = 0; at < mp3.length; at += 417) expect([...mp3.subarray(at, at + 4)]).toEqual([0xff, 0xfb, 0x90, 0xc4]);
  });
});
