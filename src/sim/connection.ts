/**
 * One client WebSocket as the simulator sees it: an inbound queue (frames are processed one at a
 * time, in order, each `latencyMs` after it arrived), an outbound queue (each frame written
 * `latencyMs` after it was produced, order kept), the idle close (Runware closes 120 s after the last
 * message either way, docs/protocol.md §2.4), and freeze: a half-open socket that neither reads
 * nor writes, pongs included, yet stays open (what sdk-js calls a zombie connection, docs/protocol.md §10.2).
 */
import { performance } from "node:perf_hooks";
import { WebSocket, type RawData } from "ws";
import type { Session } from "./session.js";
import { Timers } from "./timers.js";
import { encodeFrame, type OutFrame } from "./wire.js";

export interface ConnectionHooks {
  /** Process one inbound text frame; resolves when done (an auth may take `authDelayMs`). */
  onFrame(conn: SimConnection, text: string): Promise<void>;
  onClose(conn: SimConnection): void;
  onError(err: unknown): void;
  latencyMs(): number;
  idleCloseMs(): number;
  closeCode: number;
}

type OutItem = { kind: "frame"; text: string; frame?: OutFrame; session?: Session } | { kind: "close"; code: number; reason: string };

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

export class SimConnection {
  private static nextId = 1;
  readonly id = SimConnection.nextId++;
  /** The session this connection is authenticated for (set and cleared by Session). */
  session: Session | undefined;
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  private isClosed = false;
  private frozen = false;
  private readonly timers = new Timers();
  private inbound: Array<{ due: number; text: string }> = [];
  private lastInDue = 0;
  private pumping = false;
  private outbound: Array<{ due: number; item: OutItem }> = [];
  private lastOutDue = 0;
  private outTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly hooks: ConnectionHooks,
  ) {
    this.closed = new Promise((resolve) => {
      ws.once("close", () => {
        this.isClosed = true;
        this.timers.clear();
        hooks.onClose(this);
        resolve();
      });
    });
    // An 'error' is always followed by 'close'; the listener only keeps it from throwing.
    ws.on("error", () => undefined);
    ws.on("message", (data) => this.onMessage(data));
    this.touch();
  }

  get isOpen(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  /** A sleep cancelled (resolving false) when the connection closes. */
  sleep(ms: number): Promise<boolean> {
    return this.timers.sleep(ms);
  }

  // ---- inbound ----

  private onMessage(data: RawData): void {
    this.touch();
    const text = toText(data);
    const due = Math.max(performance.now() + this.hooks.latencyMs(), this.lastInDue);
    this.lastInDue = due;
    this.inbound.push({ due, text });
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.drainInbound()
      .catch((err: unknown) => this.hooks.onError(err))
      .finally(() => {
        this.pumping = false;
      });
  }

  private async drainInbound(): Promise<void> {
    while (!this.isClosed && !this.frozen) {
      const head = this.inbound[0];
      if (!head) return;
      const wait = head.due - performance.now();
      if (wait > 0) {
        if (!(await this.timers.sleep(wait))) return;
        continue;
      }
      this.inbound.shift();
      await this.hooks.onFrame(this, head.text);
    }
  }

  // ---- outbound ----

  /** A reply that is not a session's output (pong, auth reply, protocol errors): lost if undeliverable. */
  sendFrame(frame: OutFrame): void {
    this.enqueue({ kind: "frame", text: encodeFrame(frame) });
  }

  /** A session's output: if it cannot be written it goes back to the session's resume buffer. */
  sendSessionFrame(frame: OutFrame, session: Session): void {
    this.enqueue({ kind: "frame", text: encodeFrame(frame), frame, session });
  }

  /** Raw text (garbage injection). */
  sendRaw(text: string): void {
    this.enqueue({ kind: "frame", text });
  }

  /** Close cleanly once everything queued before has been written. */
  closeAfterQueued(code: number, reason: string): void {
    this.enqueue({ kind: "close", code, reason });
  }

  /** Drop the TCP connection at once (the client sees 1006); the session survives. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Remove and return this session's queued output (the session moved or the socket went away). */
  takeSessionFrames(session: Session): OutFrame[] {
    const taken: OutFrame[] = [];
    this.outbound = this.outbound.filter(({ item }) => {
      if (item.kind !== "frame" || item.session !== session || !item.frame) return true;
      taken.push(item.frame);
      return false;
    });
    return taken;
  }

  private enqueue(item: OutItem): void {
    const due = Math.max(performance.now() + this.hooks.latencyMs(), this.lastOutDue);
    this.lastOutDue = due;
    this.outbound.push({ due, item });
    this.flushOutbound();
  }

  private flushOutbound(): void {
    if (this.frozen || this.isClosed) return;
    this.timers.cancel(this.outTimer);
    this.outTimer = undefined;
    for (let head = this.outbound[0]; head; head = this.outbound[0]) {
      const wait = head.due - performance.now();
      if (wait > 0) {
        this.outTimer = this.timers.after(wait, () => {
          this.outTimer = undefined;
          this.flushOutbound();
        });
        return;
      }
      this.outbound.shift();
      this.write(head.item);
    }
  }

  private write(entry: OutItem): void {
    if (entry.kind === "close") {
      this.ws.close(entry.code, entry.reason);
      return;
    }
    if (entry.session && (entry.session.connection !== this || !this.isOpen)) {
      if (entry.frame) entry.session.undelivered(entry.frame, this);
      return;
    }
    if (!this.isOpen) return;
    this.ws.send(entry.text);
    this.touch();
  }

  // ---- idle close and freeze ----

  /** Restart the idle countdown (any frame in either direction). Suspended while frozen. */
  private touch(): void {
    this.timers.cancel(this.idleTimer);
    this.idleTimer = undefined;
    if (this.frozen || this.isClosed) return;
    this.idleTimer = this.timers.after(this.hooks.idleCloseMs(), () => {
      this.idleTimer = undefined;
      this.ws.close(this.hooks.closeCode, "idle timeout");
    });
  }

  /** Stop reading (the TCP socket is paused) and writing, without closing. */
  freeze(): void {
    if (this.frozen || this.isClosed) return;
    this.frozen = true;
    this.ws.pause();
    this.timers.cancel(this.outTimer);
    this.outTimer = undefined;
    this.timers.cancel(this.idleTimer);
    this.idleTimer = undefined;
  }

  unfreeze(): void {
    if (!this.frozen) return;
    this.frozen = false;
    if (this.isClosed) return;
    this.ws.resume();
    this.touch();
    this.flushOutbound();
    this.pump();
  }
}
