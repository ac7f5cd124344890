/**
 * What a file is, from its first bytes, and the file extension of a MIME type: how the simulator
 * names an upload (`imageUpload`, `mediaStorage`) and how the CLI names a saved output, since a
 * base64 string carries no type and a data URI's or a server's may be missing or wrong.
 */
export interface Sniffed {
  readonly kind: "image" | "video" | "audio" | "other";
  readonly type: string;
  readonly ext: string;
}

const ascii = (b: Buffer, from: number, to: number) => b.subarray(from, to).toString("latin1");

/** Extensions of the MIME types Runware's outputs come in (images, video, audio, 3D, text). */
const EXT_BY_MIME: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/mpeg": "mp3",
  "audio/flac": "flac",
  "audio/ogg": "ogg",
  "model/gltf-binary": "glb",
  "model/gltf+json": "gltf",
  "model/obj": "obj",
  "model/stl": "stl",
  "text/plain": "txt",
};

/** The extension for `mime` (parameters ignored), or undefined when it is not one of Runware's output types. */
export function extOfMime(mime: string | null | undefined): string | undefined {
  const base = (mime ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return EXT_BY_MIME[base];
}

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
  if (ascii(b, 0, 4) === "glTF") return { kind: "other", type: "model/gltf-binary", ext: "glb" };
  if (ascii(b, 0, 4) === "fLaC") return { kind: "audio", type: "audio/flac", ext: "flac" };
  if (ascii(b, 0, 4) === "OggS") return { kind: "audio", type: "audio/ogg", ext: "ogg" };
  return { kind: "other", type: "application/octet-stream", ext: "bin" };
}
