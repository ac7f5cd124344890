/**
 * Small HTTP helpers for the local API: JSON answers in Runware's error shape, a bounded body
 * reader, and an NDJSON writer. Errors before the first byte get a real status; after it they go
 * in-band (docs/protocol.md §11.6, the ollama rule).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { RunwareErrorObject } from "../errors.js";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, error: RunwareErrorObject, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [error] }, headers);
}

/**
 * A whole JSON error response written straight to a socket, then the connection is closed: for
 * where no ServerResponse exists (a request Node's parser rejected, CONNECT, a refused upgrade), so
 * that these too answer in Runware's error shape rather than Node's bare status line.
 */
export function sendRawError(socket: Duplex, status: number, error: RunwareErrorObject): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [error] });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export class BodyTooLarge extends Error {
  readonly code = "payloadTooLarge";
}

/** Read the whole body, refusing (without buffering further) once it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge(`body of ${declared} bytes exceeds the ${limit}-byte limit`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLarge(`body exceeds the ${limit}-byte limit`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (failed) return;
      const body = Buffer.concat(chunks, size);
      chunks.length = 0; // the listeners outlive the read (req lives as long as the request)
      resolve(body);
    });
    req.on("error", (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

/**
 * Path and query of a request target, without building a URL object per request (it showed in
 * the profile). An absolute-form target (`GET http://host/v1`) still goes through URL.
 */
export function splitTarget(target: string | undefined): { path: string; query: string } {
  let t = target ?? "/";
  if (!t.startsWith("/")) {
    try {
      const u = new URL(t);
      t = u.pathname + u.search;
    } catch {
      t = "/";
    }
  }
  const q = t.indexOf("?");
  const path = (q >= 0 ? t.slice(0, q) : t).replace(/\/+$/, "") || "/";
  return { path, query: q >= 0 ? t.slice(q + 1) : "" };
}

/** One JSON object per line; writes nothing once the client has gone. */
export class NdjsonWriter {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
  }

  line(obj: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.res.write(`${JSON.stringify(obj)}\n`);
  }

  end(last: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.res.end(`${JSON.stringify(last)}\n`);
  }
}
