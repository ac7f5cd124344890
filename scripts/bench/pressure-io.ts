/**
 * The pressure phase's callers, written against the local API itself (node:http, ws) so every answer
 * is streamed and counted, never held: the bench process moves gigabytes and must stay small.
 * Each caller ends with an `Outcome`: an answer (status, bytes, result items, error codes) or the
 * transport error that stood in for one.
 */
import http from "node:http";
import WebSocket from "ws";

/** How one caller ended. `status` is undefined when no HTTP answer (or WebSocket close) came. */
export interface Outcome {
  status: number | undefined;
  bytes: number;
  /** Result items seen (`"imageUUID"` occurrences). */
  items: number;
  /** Runware error codes in the answer's small parts (a refusal body, the tail of an envelope, an error line or frame). */
  codes: string[];
  /** NDJSON: the last line was the done line. WebSocket: every result item arrived. */
  complete: boolean;
  /** WebSocket: the close code and reason, when a close frame arrived. */
  close?: { code: number; reason: string };
  /** The transport error or timeout when nothing answered. */
  error?: string;
}

const ITEM = Buffer.from('"imageUUID"');
/** Bytes kept from the start and the end of an answer: where a refusal, an error list or the last line is. */
const KEEP = 64 * 1024;
const CODE_RE = /"code":"(\w+)"/g;
const DRAIN_POLL_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts a needle across chunk boundaries, and keeps the head and the tail of the stream. */
class StreamScan {
  bytes = 0;
  items = 0;
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    const joined = Buffer.concat([this.tail.subarray(this.tail.length - (ITEM.length - 1)), chunk]);
    for (let at = joined.indexOf(ITEM); at >= 0; at = joined.indexOf(ITEM, at + ITEM.length)) this.items += 1;
    if (this.head.length < KEEP) this.head = Buffer.concat([this.head, chunk.subarray(0, KEEP - this.head.length)]);
    this.tail = Buffer.concat([this.tail, chunk]);
    if (this.tail.length > KEEP) this.tail = this.tail.subarray(this.tail.length - KEEP);
  }

  /** The whole answer when it was small, else its head and tail. */
  text(): string {
    return this.bytes <= KEEP ? this.head.toString("utf8") : `${this.head.toString("utf8")}\n${this.tail.toString("utf8")}`;
  }

  lastLine(): string {
    const lines = this.tail.toString("utf8").trimEnd().split("\n");
    return lines[lines.length - 1] ?? "";
  }
}

function codesIn(text: string): string[] {
  return [...text.matchAll(CODE_RE)].map((m) => m[1] as string);
}

export interface Call {
  /** The body is written (or an answer came first): the caller's upload slot is free. */
  sent: Promise<void>;
  answer: Promise<Outcome>;
  /** Stop reading: an NDJSON caller that never reads. `resume()` reads on. */
  pause(): void;
  resume(): void;
  /** Give up: the request is destroyed and, unless it was answered already, counted as unanswered. */
  cancel(reason: string): void;
}

export interface CallOptions {
  method?: string;
  path?: string;
  /** Written in order: e.g. a task's JSON head, one shared 30 MB payload, its tail. */
  body?: Buffer[];
  ndjson?: boolean;
  /** No answer by then: the request is destroyed and counted as unanswered. */
  timeoutMs: number;
  /** Pause as soon as the answer's headers are in (a client that never reads). */
  paused?: boolean;
}

/** One HTTP request on the daemon's socket, its answer streamed through a StreamScan. */
export function call(socket: string, o: CallOptions): Call {
  const body = o.body ?? [];
  const length = body.reduce((n, b) => n + b.length, 0);
  const scan = new StreamScan();
  let res: http.IncomingMessage | undefined;
  let paused = o.paused === true;
  let sentResolve: () => void = () => {};
  let cancel: (reason: string) => void = () => {};
  const sent = new Promise<void>((r) => (sentResolve = r));
  const answer = new Promise<Outcome>((resolve) => {
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sentResolve();
      const text = scan.text();
      const last = scan.lastLine();
      resolve({
        status: res?.statusCode,
        bytes: scan.bytes,
        items: scan.items,
        codes: codesIn(o.ndjson ? last : text),
        complete: o.ndjson ? last.startsWith('{"done":true') : res?.statusCode === 200 && error === undefined,
        ...(error !== undefined ? { error } : {}),
      });
    };
    const req = http.request({
      socketPath: socket,
      method: o.method ?? (body.length > 0 ? "POST" : "GET"),
      path: o.path ?? "/v1",
      agent: false,
      headers: {
        ...(body.length > 0 ? { "content-type": "application/json", "content-length": String(length) } : {}),
        ...(o.ndjson ? { accept: "application/x-ndjson" } : {}),
      },
    });
    cancel = (reason) => {
      req.destroy();
      finish(reason);
    };
    const timer = setTimeout(() => cancel(`no answer within ${o.timeoutMs} ms`), o.timeoutMs);
    req.on("response", (r) => {
      res = r;
      sentResolve();
      r.on("data", (chunk: Buffer) => scan.push(chunk));
      r.on("end", () => finish());
      r.on("error", (err) => finish(`answer cut: ${err.message}`));
      r.on("aborted", () => finish("answer aborted"));
      if (paused) r.pause();
    });
    // After an answer (an early refusal), a failing upload is expected: the daemon stopped reading.
    req.on("error", (err) => (res ? undefined : finish(err.message)));
    req.on("finish", () => sentResolve());
    void writeAll(req, body);
  });
  return {
    sent,
    answer,
    pause: () => {
      paused = true;
      res?.pause();
    },
    resume: () => {
      paused = false;
      res?.resume();
    },
    cancel: (reason) => cancel(reason),
  };
}

/** Writes the parts in order with backpressure, then ends the request. */
async function writeAll(req: http.ClientRequest, parts: Buffer[]): Promise<void> {
  for (const part of parts) {
    if (req.destroyed) return;
    if (!req.write(part)) await new Promise<void>((r) => req.once("drain", r).once("close", r));
  }
  req.end();
}

/**
 * A local WebSocket client (Runware's protocol on the daemon's socket) that sends its tasks and then
 * stops reading (`pause`) until `drain` reads on to the end.
 */
export class PausedWs {
  private readonly outcome: Outcome = { status: undefined, bytes: 0, items: 0, codes: [], complete: false };
  private readonly closed: Promise<void>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly expectItems: number,
  ) {
    ws.on("message", (raw: Buffer) => {
      this.outcome.bytes += raw.length;
      if (raw.includes(ITEM)) this.outcome.items += 1;
      else if (raw.length <= KEEP) this.outcome.codes.push(...codesIn(raw.toString("utf8")));
      if (this.outcome.items >= this.expectItems) this.outcome.complete = true;
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        if (code !== 1005 && code !== 1006) this.outcome.close = { code, reason: reason.toString("utf8") };
        else this.outcome.error ??= `closed without a close frame (${code})`;
        resolve();
      });
    });
    ws.on("error", (err) => (this.outcome.error ??= err.message));
  }

  /** Connects, authenticates, sends `tasks` in one frame and pauses. */
  static async open(url: string, apiKey: string, tasks: unknown[], expectItems: number): Promise<PausedWs> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("error", reject);
      ws.once("open", () => ws.send(JSON.stringify([{ taskType: "authentication", apiKey }])));
      ws.once("message", () => {
        ws.off("error", reject);
        resolve();
      });
    });
    const client = new PausedWs(ws, expectItems);
    ws.send(JSON.stringify(tasks), () => ws.pause());
    return client;
  }

  /** Reads on until the daemon closes, every item has arrived, or `timeoutMs`; then closes. */
  async drain(timeoutMs: number): Promise<Outcome> {
    const state = { closed: false };
    void this.closed.then(() => (state.closed = true));
    this.ws.resume();
    const deadline = performance.now() + timeoutMs;
    while (!state.closed && !this.outcome.complete && performance.now() < deadline) await sleep(DRAIN_POLL_MS);
    const closed = state.closed;
    if (!closed && !this.outcome.complete) this.outcome.error = `nothing final within ${timeoutMs} ms`;
    // Our own terminate (after every item, or after the timeout) is not the daemon's answer.
    const ours = !closed;
    this.ws.terminate();
    await this.closed;
    if (ours && this.outcome.error?.startsWith("closed without")) delete this.outcome.error;
    return { ...this.outcome };
  }
}
