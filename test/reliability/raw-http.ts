/**
 * HTTP/1.1 by hand over the daemon's Unix socket, for the fuzz tests: bytes written exactly as
 * given (split where the test says, with pauses between the pieces), or abandoned mid-way, and the
 * answer read back raw. node:http's client would refuse or repair most of what these tests send.
 */
import net from "node:net";

export interface RawAnswer {
  /** 0 when the connection closed without a status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export interface RawOptions {
  /** Pause between pieces (ms; 0 = next event-loop turn). */
  gapMs?: number;
  /** Give up (and report what arrived) after this long. */
  timeoutMs?: number;
}

function parseRaw(raw: string): RawAnswer {
  const head = raw.indexOf("\r\n\r\n");
  const top = head >= 0 ? raw.slice(0, head) : raw;
  const [statusLine = "", ...headerLines] = top.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = head >= 0 ? raw.slice(head + 4) : "";
  if (headers["transfer-encoding"] === "chunked") body = dechunk(body);
  return { status, headers, body, raw };
}

function dechunk(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const eol = text.indexOf("\r\n", i);
    if (eol < 0) break;
    const size = parseInt(text.slice(i, eol), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out += text.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  return out;
}

/**
 * Write `pieces` in order on a fresh connection, then read until the server closes (requests should
 * say `Connection: close`). Resolves with whatever arrived, also on timeout.
 */
export function rawExchange(socketPath: string, pieces: ReadonlyArray<string | Buffer>, opts: RawOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    const chunks: Buffer[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(parseRaw(Buffer.concat(chunks).toString("utf8")));
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 5_000);
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("close", finish);
    sock.on("error", () => undefined);
    sock.once("connect", () => {
      writePieces(sock, pieces, opts.gapMs).catch(finish);
    });
  });
}

/** Connect, write `pieces`, then destroy the socket without waiting for anything (a client that died). */
export function rawAbandon(socketPath: string, pieces: ReadonlyArray<string | Buffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.on("error", () => undefined);
    sock.once("connect", () => {
      writePieces(sock, pieces)
        .finally(() => sock.destroy())
        .then(resolve, reject);
    });
  });
}

/** Write `pieces` one per event-loop turn (or `gapMs` apart); stop early once the socket is gone. */
async function writePieces(sock: net.Socket, pieces: ReadonlyArray<string | Buffer>, gapMs = 0): Promise<void> {
  for (const p of pieces) {
    if (sock.destroyed) return;
    sock.write(p);
    await new Promise((r) => (gapMs ? setTimeout(r, gapMs) : setImmediate(r)));
  }
}

/** A complete request as bytes; `Content-Length` from the body unless `headers` sets framing itself. */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body = ""): string {
  const h: Record<string, string> = { host: "localhost", connection: "close", ...headers };
  if (body !== "" && h["content-length"] === undefined && h["transfer-encoding"] === undefined)
    h["content-length"] = String(Buffer.byteLength(body));
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n${body}`;
}

/** `text` in chunked transfer-encoding, cut at the given byte offsets. */
export function chunked(text: string, cuts: readonly number[]): Buffer {
  const out: Buffer[] = [];
  for (const part of splitAt(Buffer.from(text), cuts)) out.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n"));
  out.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(out);
}

/** `bytes` cut into pieces at the given offsets. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const bounds = [0, ...points, bytes.length];
  const out: Buffer[] = [];
  for (let i = 1; i < bounds.length; i++) if (bounds[i]! > bounds[i - 1]!) out.push(bytes.subarray(bounds[i - 1], bounds[i]));
  return out;
}
