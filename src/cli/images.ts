/**
 * Writing result images to disk, named by `imageUUID` (stable, unique, reusable as a Runware
 * input). Handles the three `outputType`s: URL (downloaded), base64Data and dataURI (decoded).
 * A video or audio result's `videoURL` / `audioURL` is downloaded too, named by its UUID.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ResultItem } from "../client/index.js";

const EXT_BY_MIME: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/mpeg": "mp3",
};

/** Result fields of a media URL, and the UUID a file of it is named by. */
const MEDIA = [
  ["videoURL", "videoUUID"],
  ["audioURL", "audioUUID"],
] as const;

function extFromUrl(url: string): string | undefined {
  const m = /\.([a-z0-9]{3,4})(?:\?|$)/i.exec(new URL(url).pathname);
  return m?.[1]?.toLowerCase();
}

/** Bytes and extension of one result item's image, or undefined when it carries none. */
async function imageBytes(item: ResultItem): Promise<{ bytes: Buffer; ext: string } | undefined> {
  if (typeof item["imageBase64Data"] === "string") {
    return {
      bytes: Buffer.from(item["imageBase64Data"], "base64"),
      ext: sniffExt(Buffer.from(item["imageBase64Data"].slice(0, 24), "base64")),
    };
  }
  if (typeof item["imageDataURI"] === "string") {
    const m = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(item["imageDataURI"]);
    if (!m) return undefined;
    const bytes = m[2] ? Buffer.from(m[3] ?? "", "base64") : Buffer.from(decodeURIComponent(m[3] ?? ""));
    return { bytes, ext: EXT_BY_MIME[m[1] ?? ""] ?? sniffExt(bytes) };
  }
  const url = [item["imageURL"], ...MEDIA.map(([field]) => item[field])].find((u) => typeof u === "string");
  if (typeof url === "string") {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const mime = (res.headers.get("content-type") ?? "").split(";")[0] ?? "";
    return { bytes, ext: EXT_BY_MIME[mime] ?? extFromUrl(url) ?? sniffExt(bytes) };
  }
  return undefined;
}

function nameOf(item: ResultItem): string {
  for (const f of ["imageUUID", ...MEDIA.map(([, uuid]) => uuid)]) if (typeof item[f] === "string") return item[f];
  return item.taskUUID;
}

function sniffExt(head: Buffer): string {
  if (head[0] === 0x89 && head[1] === 0x50) return "png";
  if (head[0] === 0xff && head[1] === 0xd8) return "jpg";
  if (head.subarray(8, 12).toString("latin1") === "WEBP") return "webp";
  return "bin";
}

/** Save one item's image (or video, audio) into `dir`; returns the file path, or undefined when there is none. */
export async function saveImage(item: ResultItem, dir: string): Promise<string | undefined> {
  const img = await imageBytes(item);
  if (!img) return undefined;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${nameOf(item)}.${img.ext}`);
  await writeFile(path, img.bytes);
  return path;
}
