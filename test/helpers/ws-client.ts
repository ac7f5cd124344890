/**
 * A minimal raw WebSocket client for talking Runware's wire protocol in tests: connect, send JSON,
 * keep every received frame, and wait for a frame matching a predicate (no sleeps).
 */
import { WebSocket } from "ws";
import { WAIT_DEFAULTS } from "./wait.js";

/** A loosely typed JSON object: tests read fields directly. */
export type Obj = Record<string, any>;

/** A parsed frame (`{data, errors}`), or `{ raw }` when the text was not JSON. */
export interface Frame {
  data?: Obj[];
  errors?: Obj[];
  /** Set when the frame was not JSON. */
  raw?: string;
  [k: string]: unknown;
}

export interface Received {
  /** `performance.now()` at arrival. */
  at: number;
  frame: Frame;
}

export class WsTestClient {
  readonly received: Received[] = [];
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      let frame: Frame;
      try {
        const parsed: unknown = JSON.parse(text);
        frame = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Frame) : { raw: text };
      } catch {
        frame = { raw: text };
      }
      this.received.push({ at: performance.now(), frame });
      for (const w of this.waiters) w();
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters) w(); // they see readyState CLOSED and reject
      }),
    );
    ws.on("error", () => undefined);
  }

  static connect(url: string, timeoutMs: number = WAIT_DEFAULTS.timeoutMs): Promise<WsTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      ws.once("open", () => resolve(new WsTestClient(ws)));
      ws.once("error", reject);
    });
  }

  get frames(): Frame[] {
    return this.received.map((r) => r.frame);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Index to pass as `from` to only consider frames that arrive after now. */
  mark(): number {
    return this.received.length;
  }

  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The first frame (at index >= `from`) that matches, waiting for it if need be. */
  async waitFor(pred: (f: Frame) => boolean, opts: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<Frame> {
    const [frame] = await this.waitForMany(pred, 1, opts);
    return frame!;
  }

  /** The first `count` matching frames at index >= `from`. */
  waitForMany(
    pred: (f: Frame) => boolean,
    count: number,
    opts: { from?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<Frame[]> {
    const from = opts.from ?? 0;
    return this.until(
      () => {
        const hits = this.frames.slice(from).filter(pred);
        return hits.length >= count ? hits.slice(0, count) : undefined;
      },
      () => `${opts.what ?? "a frame"}; got ${this.describe(from)}`,
      opts.timeoutMs,
    );
  }

  /** All data items of `taskUUID` received so far, in arrival order. */
  items(taskUUID: string): Obj[] {
    return this.frames.flatMap((f) => f.data ?? []).filter((i) => i["taskUUID"] === taskUUID);
  }

  /** All error entries of `taskUUID` received so far. */
  errors(taskUUID: string): Obj[] {
    return this.frames.flatMap((f) => f.errors ?? []).filter((e) => e["taskUUID"] === taskUUID);
  }

  /** Wait until `count` data items of `taskUUID` have arrived; returns them all. */
  itemsFor(taskUUID: string, count: number, timeoutMs?: number): Promise<Obj[]> {
    return this.until(
      () => {
        const items = this.items(taskUUID);
        return items.length >= count ? items : undefined;
      },
      () => `${count} items of ${taskUUID} (have ${this.items(taskUUID).length}); got ${this.describe(0)}`,
      timeoutMs,
    );
  }

  /** Resolves with `probe()` once it is defined, re-checking on every frame; rejects on close or timeout. */
  private until<T>(probe: () => T | undefined, what: () => string, timeoutMs: number = WAIT_DEFAULTS.timeoutMs): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed while waiting for ${what()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The first error entry for `taskUUID` (waiting for it). */
  async errorFor(taskUUID: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<Obj> {
    const f = await this.waitFor((fr) => (fr.errors ?? []).some((e) => e["taskUUID"] === taskUUID), {
      ...opts,
      what: `an error for ${taskUUID}`,
    });
    return f.errors!.find((e) => e["taskUUID"] === taskUUID)!;
  }

  /** Send the auth frame and wait for its answer; resolves with the frame (data or errors). */
  async authFrame(apiKey: string, connectionSessionUUID?: string): Promise<Frame> {
    const from = this.mark();
    this.send([{ taskType: "authentication", apiKey, ...(connectionSessionUUID ? { connectionSessionUUID } : {}) }]);
    return this.waitFor(
      (f) =>
        (f.data ?? []).some((i) => i["taskType"] === "authentication") || (f.errors ?? []).some((e) => e["taskType"] === "authentication"),
      { from, what: "the authentication reply" },
    );
  }

  /** Authenticate and return the session UUID (throws if refused). */
  async authenticate(apiKey = "test-key", connectionSessionUUID?: string): Promise<string> {
    const f = await this.authFrame(apiKey, connectionSessionUUID);
    const session = f.data?.[0]?.["connectionSessionUUID"];
    if (typeof session !== "string") throw new Error(`authentication refused: ${JSON.stringify(f)}`);
    return session;
  }

  /** Close from our side (terminate: no handshake) and wait until the socket is gone. */
  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
  }

  private describe(from: number): string {
    const text = JSON.stringify(this.frames.slice(from));
    return text.length > 600 ? `${text.slice(0, 600)}…` : text;
  }
}
