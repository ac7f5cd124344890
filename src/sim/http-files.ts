/**
 * The simulator's plain HTTP side: generated and uploaded files (images at `/image/<id>.png`, rendered
 * when fetched, uploads at their own extension; videos and audio at `/video/<id>.<ext>` and `/audio/<id>.<ext>`) and the JSON helpers
 * the `/_sim/*` controls use. Files are `no-store` and 404 once unknown or expired.
 */
import type http from "node:http";
import type { ImageStore } from "./images.js";
import { MEDIA_PATH, type MediaStore } from "./media/store.js";

const IMAGE_PATH = /^\/image\/([A-Za-z0-9-]+)\.([a-z0-9]+)$/;

/** Answer a GET/HEAD for a generated file; false when `path` is not a file route (the caller goes on). */
export function serveGenerated(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  stores: { images: ImageStore; media: MediaStore },
): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const image = IMAGE_PATH.exec(path);
  const media = image ? null : MEDIA_PATH.exec(path);
  let file: { what: string; type: string; bytes: Buffer | undefined };
  if (image) {
    const found = stores.images.file(image[1]!, image[2]!);
    file = { what: "image", type: found?.type ?? "", bytes: found?.bytes };
  } else if (media) {
    const found = stores.media.get(media[1]!, media[2]!, media[3]!);
    file = { what: media[1]!, type: found?.contentType ?? "", bytes: found?.bytes() };
  } else return false;
  if (!file.bytes) {
    sendJson(res, 404, { error: `no such ${file.what} (unknown or expired)` });
    return true;
  }
  res.writeHead(200, { "content-type": file.type, "content-length": file.bytes.length, "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? undefined : file.bytes);
  return true;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The request body as text, refused past `limit` bytes. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
