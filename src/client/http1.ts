/**
 * The client's HTTP/1.1, spoken directly over the Unix socket. Why not node:http: loading it costs
 * a one-shot CLI about 8 ms of a ~60 ms start (measured; issue 6 wants verbs within 1.3× of bare
 * Node). The client only ever talks to our own daemon (Node's HTTP server), so it needs little:
 * one request per connection (`connection: close`), a status line and headers, then a body framed
 * by Content-Length, chunked transfer coding, or the close of the connection.
 */
import { createConnection } from "node:net";
import { ClientError } from "./errors.js";

export interface Http1Response {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The body, decoded from its framing, chunk by chunk as it arrives. */
  body: AsyncIterable<Buffer>;
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
/** A response head larger than this is not from our daemon. */
const MAX_HEAD_BYTES = 64 * 1024;

/** A push-to-pull queue of body chunks. */
class BodyQueue implements AsyncIterable<Buffer> {
  private chunks: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  push(chunk: Buffer): void {
    if (chunk.length > 0) this.chunks.push(chunk);
    this.wake();
  }
  end(): void {
    this.ended = true;
    this.wake();
  }
  fail(err: Error): void {
    this.error ??= err;
    this.wake();
  }
  get done(): boolean {
    return this.ended;
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const next = this.chunks.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.error) throw this.error;
      if (this.ended) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}

export function http1Request(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  payload?: string,
): Promise<Http1Response> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path: socketPath });
    const body = new BodyQueue();
    let buf: Buffer = Buffer.alloc(0);
    let headDone = false;
    let mode: "length" | "chunked" | "close" = "close";
    let remaining = 0;

    const fail = (err: Error) => {
      if (!headDone) reject(err);
      else body.fail(err);
      sock.destroy();
    };

    sock.on("connect", () => {
      let head = `${method} ${path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      if (payload !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`;
      sock.write(`${head}\r\n`);
      if (payload !== undefined) sock.write(payload);
    });

    /** Consume what `buf` holds of the body; returns false when more bytes are needed. */
    const readBody = (): void => {
      if (mode === "close") {
        body.push(buf);
        buf = Buffer.alloc(0);
        return;
      }
      if (mode === "length") {
        const take = Math.min(remaining, buf.length);
        body.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        remaining -= take;
        if (remaining === 0) {
          body.end();
          sock.destroy();
        }
        return;
      }
      // chunked: <hex size>[;ext]\r\n<data>\r\n ... 0\r\n\r\n
      for (;;) {
        const eol = buf.indexOf(CRLF);
        if (eol < 0) return;
        const size = Number.parseInt(buf.subarray(0, eol).toString("latin1").split(";")[0] ?? "", 16);
        if (!Number.isFinite(size) || size < 0) {
          fail(new Error("malformed chunked body from the daemon"));
          return;
        }
        if (size === 0) {
          body.end();
          sock.destroy();
          return;
        }
        if (buf.length < eol + 2 + size + 2) return;
        body.push(buf.subarray(eol + 2, eol + 2 + size));
        buf = buf.subarray(eol + 2 + size + 2);
      }
    };

    sock.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!headDone) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) {
          if (buf.length > MAX_HEAD_BYTES) fail(new Error("response head too large"));
          return;
        }
        const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number((lines[0] ?? "").split(" ")[1]);
        const hdrs: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          if (colon > 0) hdrs[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        buf = buf.subarray(end + 4);
        headDone = true;
        if ((hdrs["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) mode = "chunked";
        else if (hdrs["content-length"] !== undefined) {
          mode = "length";
          remaining = Number(hdrs["content-length"]);
        }
        resolve({ status, headers: hdrs, body });
        if (mode === "length" && remaining === 0) {
          body.end();
          sock.destroy();
          return;
        }
      }
      readBody();
    });
    sock.on("error", (err) => fail(err));
    sock.on("close", () => {
      if (!headDone) reject(Object.assign(new Error("the daemon closed the connection without an answer"), { code: "ECONNRESET" }));
      else if (mode === "close") body.end();
      else if (!body.done) body.fail(new Error("the daemon's answer was cut short"));
    });
  });
}

/** The whole body as JSON; not JSON: ClientError `invalidResponse`, or undefined when `lenient` (an error answer's body). */
export async function readJson(res: Http1Response, lenient = false): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const chunk of res.body) parts.push(chunk);
  const text = Buffer.concat(parts).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    if (lenient) return undefined;
    throw new ClientError("invalidResponse", `the daemon's answer is not JSON (${text.length} bytes)`);
  }
}
