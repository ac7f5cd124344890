/**
 * Small HTTP helpers for the local API: small JSON answers in Runware's error shape and a body
 * reader bounded per body and across bodies (budget.ts). Errors before the first byte get a real
 * status; after it they go in-band (docs/protocol.md §11.6, the ollama rule). Large answers are
 * streamed (answer.ts, ndjson.ts).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { RunwareErrorObject } from "../errors.js";
import type { Hold } from "./budget.js";
import { encode } from "./encode.js";

const UNENCODABLE_BODY = JSON.stringify({ errors: [{ code: "internalError", message: "the answer could not be encoded as JSON" }] });

/** A small JSON answer in one write; one that cannot be encoded becomes a 500 (a bug: answers are built here). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  let text = encode(body);
  if (text === undefined) {
    text = UNENCODABLE_BODY;
    status = 500;
  }
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
export function sendRawError(socket: Duplex, status: number, error: RunwareErrorObject, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [error] });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
  );
}

/** A body the daemon will not read: its status, and its Runware-shaped error. */
export class BodyRefused extends Error {
  constructor(
    readonly status: 413 | 503,
    readonly code: "payloadTooLarge" | "serverBusy",
    message: string,
  ) {
    super(message);
  }
}

/** Defined out here: a listener made inside readBody would keep its promise, and the body, alive. */
const ignore = () => undefined;

/**
 * Read the whole body, refusing (without buffering further) once it passes `limit` bytes (413), or
 * once the bodies being read on every connection together would pass the reading budget (503): its
 * bytes are held in `hold` as they arrive, and the caller releases them once the body is parsed.
 * A body whose declared length cannot fit now is refused before anything is read.
 */
export function readBody(req: IncomingMessage, limit: number, hold: Hold, budget: { limit: number; inUse: number }): Promise<Buffer> {
  const busy = () =>
    new BodyRefused(
      503,
      "serverBusy",
      `the daemon is reading ${budget.inUse} bytes of request bodies already, near its ${budget.limit}-byte budget (maxReadingBytes); retry in a moment`,
    );
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyRefused(413, "payloadTooLarge", `body of ${declared} bytes exceeds the ${limit}-byte limit`));
      return;
    }
    if (Number.isFinite(declared) && declared > budget.limit - budget.inUse) {
      reject(busy());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // Settled once; then the listeners go, for they would keep this promise (and the body it
    // resolved with) alive as long as the request. Unread bytes left flow on, dropped.
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.on("error", ignore);
      chunks.length = 0;
    };
    const fail = (err: Error) => {
      stop();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new BodyRefused(413, "payloadTooLarge", `body exceeds the ${limit}-byte limit`));
      if (!hold.grow(chunk.length)) return fail(busy());
      chunks.push(chunk);
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks, size);
      stop();
      resolve(body);
    };
    const onError = (err: Error) => fail(err);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
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

/** Browsers send Origin (and Referer); scripts and curl do not. A page must never drive the daemon. */
export function fromBrowser(req: IncomingMessage): boolean {
  return req.headers.origin !== undefined || req.headers.referer !== undefined;
}

/** A path segment %-decoded; undefined when its escapes are malformed (it cannot name anything then). */
export function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
