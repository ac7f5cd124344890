/**
 * Bare clients of the daemon's local API over its Unix socket (docs/local-api.md §2), for the chaos runner,
 * the soak and the fuzz tests: one HTTP request with the whole answer, an NDJSON stream read line by
 * line, and a Runware-protocol WebSocket. No retries and no cleverness: what the daemon answers is
 * exactly what is checked.
 */
import http from "node:http";
import { WebSocket } from "ws";

export type Json = Record<string, any>;

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: Json | undefined;
}

export interface RequestSpec {
  method?: string;
  path?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Abort with an error after this long (default: wait forever; the run has its own deadline). */
  timeoutMs?: number;
}

function parse(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** One request on a fresh connection (no agent: nothing pooled outlives the request). */
export function request(socketPath: string, spec: RequestSpec = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body !== undefined && headers["content-length"] === undefined)
      headers["content-length"] = String(Buffer.byteLength(spec.body));
    const req = http.request({ socketPath, path: spec.path ?? "/v1", method: spec.method ?? "GET", headers, agent: false });
    const timer = spec.timeoutMs
      ? setTimeout(() => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)), spec.timeoutMs)
      : undefined;
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parse(text) });
      });
      res.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(spec.body);
  });
}

export function postJson(socketPath: string, body: unknown, timeoutMs?: number): Promise<Answer> {
  return request(socketPath, {
    method: "POST",
    path: "/v1",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

export interface NdjsonAnswer {
  status: number;
  /** Every line, parsed (a line that is not JSON is kept as `{ unparsable: text }`). */
  lines: Json[];
  text: string;
  /** True when the body ended on a newline (a cut stream ends mid-line). */
  endedOnNewline: boolean;
}

/** `POST /v1` with `Accept: application/x-ndjson`, every line collected. */
export function postNdjson(socketPath: string, body: unknown): Promise<NdjsonAnswer> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request({
      socketPath,
      path: "/v1",
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", accept: "application/x-ndjson", "content-length": String(Buffer.byteLength(text)) },
    });
    req.on("response", (res) => {
      let all = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (all += c));
      res.on("end", () => {
        const lines = all
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => parse(l) ?? { unparsable: l });
        resolve({ status: res.statusCode ?? 0, lines, text: all, endedOnNewline: all.endsWith("\n") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(text);
  });
}

/** A Runware-protocol client of the daemon's local WebSocket. */
export class LocalWs {
  private readonly listeners = new Set<(frame: Json, text: string) => void>();
  readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString("utf8");
      const frame = parse(text) ?? { unparsable: text };
      for (const l of this.listeners) l(frame, text);
    });
    ws.on("error", () => undefined);
    this.closed = new Promise((resolve) => ws.once("close", () => resolve()));
  }

  static connect(socketPath: string): Promise<LocalWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws+unix://${socketPath}:/v1`, { perMessageDeflate: false });
      ws.once("open", () => resolve(new LocalWs(ws)));
      ws.once("error", reject);
    });
  }

  onFrame(fn: (frame: Json, text: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  send(tasks: unknown): void {
    this.ws.send(JSON.stringify(tasks));
  }

  /** Resolves with the first frame that matches. */
  next(match: (frame: Json) => boolean): Promise<Json> {
    return new Promise((resolve) => {
      const off = this.onFrame((f) => {
        if (match(f)) {
          off();
          resolve(f);
        }
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000, "done");
    const timer = setTimeout(() => this.ws.terminate(), 1_000);
    await this.closed;
    clearTimeout(timer);
  }
}
