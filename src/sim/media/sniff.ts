/**
 * What a file is, from its first bytes: how the simulator names and serves an upload (`imageUpload`,
 * `mediaStorage`), since a base64 string carries no type and a data URI's may be wrong.
 */
export interface Sniffed {
  readonly kind: "image" | "video" | "audio" | "other";
  readonly type: string;
  readonly ext: string;
}

const ascii = (b: Buffer, from: number, to: number) => b.subarray(from, to).toString("latin1");

export function sniff(b: Buffer): Sniffed {
  if (b[0] === 0x89 && ascii(b, 1, 4) === "PNG") return { kind: "image", type: "image/png", ext: "png" };
  if (b[0] === 0xff && b[1] === 0xd8) return { kind: "image", type: "image/jpeg", ext: "jpg" };
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return { kind: "image", type: "image/webp", ext: "webp" };
  if (ascii(b, 0, 4) === "GIF8") return { kind: "image", type: "image/gif", ext: "gif" };
  if (ascii(b, 4, 8) === "ftyp") {
    return ascii(b, 8, 10) === "qt"
      ? { kind: "video", type: "video/quicktime", ext: "mov" }
      : { kind: "video", type: "video/mp4", ext: "mp4" };
  }
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return { kind: "video", type: "video/webm", ext: "webm" };
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WAVE") return { kind: "audio", type: "audio/wav", ext: "wav" };
  if (ascii(b, 0, 3) === "ID3" || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0))
    return { kind: "audio", type: "audio/mpeg", ext: "mp3" };
  return { kind: "other", type: "application/octet-stream", ext: "bin" };
}
