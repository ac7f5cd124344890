/**
 * One Runware WebSocket at a time: dial, authenticate, keep alive, and redial with backoff.
 *
 * - Every dial gets a new epoch; callbacks of an abandoned socket carry the old epoch and are
 *   ignored, so they can never touch the live one (ioredis#2099, docs/protocol.md §11.1).
 * - The auth frame is always first and always carries the previous `connectionSessionUUID`, which
 *   is never cleared on close: that is what makes Runware replay its 120 s buffer of undelivered
 *   results (docs/protocol.md §2.3). sdk-js clears it on every close and loses them.
 * - `invalidApiKey` ends the reconnect loop (`auth-failed`); nothing else does.
 */
import { EventEmitter } from "eventemitter3";
import { encodeAuth, PING_FRAME, splitFrame, type SplitFrame } from "../protocol/codec.js";
import { AuthError, type RunwareErrorObject } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import { Backoff, type RandomSource } from "./backoff.js";
import { Heartbeat } from "./heartbeat.js";
import { ALLOWED, isWritable, type ConnState } from "./state.js";
import { wsDialer, type Dialer, type Transport } from "./transport.js";
import { systemClock, type Clock, type Timer } from "../util/clock.js";
import { EveryInterval } from "../util/ratelimit.js";
import { scrub } from "../util/scrub.js";
import { LinkTraffic } from "./traffic.js";

/** A recurring warning (garbage frames) is logged at most once per this interval. */
const LOG_INTERVAL_MS = 10_000;

export interface ConnectionOptions {
  url: string;
  apiKey: string;
  handshakeTimeoutMs: number;
  /** Largest inbound frame; a larger one closes the link with 1009 (transport.ts). */
  maxUpstreamFrameBytes?: number;
  authTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  backoffFloorMs: number;
  backoffFactor: number;
  minUptimeMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxMissedPongs: number;
  /** Inbound items and errors nested deeper become an error for their task (protocol/codec.ts); default 64. */
  maxJsonDepth?: number;
  dialer?: Dialer;
  random?: RandomSource;
  clock?: Clock;
  logger?: Logger;
}

export interface ReadyInfo {
  sessionUUID: string;
  /** True when Runware echoed the session we asked to resume: its buffered results will follow. */
  resumed: boolean;
  epoch: number;
}

export interface ConnectionEvents {
  state: [to: ConnState, from: ConnState, reason: string];
  ready: [info: ReadyInfo];
  /** The link that carried epoch `epoch` is gone. */
  down: [epoch: number, reason: string, closeCode: number | undefined];
  frame: [frame: SplitFrame];
  authFailed: [error: AuthError];
  /** The socket can take more bytes again after backpressure. */
  writable: [];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  /** Bytes and pong misses, for metrics (traffic.ts). */
  readonly traffic = new LinkTraffic();
  private _state: ConnState = "closed";
  private _epoch = 0;
  private socket: Transport | undefined;
  private _sessionUUID: string | undefined;
  private authTimer: Timer | undefined;
  private backoffTimer: Timer | undefined;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly heartbeat: Heartbeat;
  private readonly dialer: Dialer;
  private readonly log: Logger;
  private draining = false;

  // Observability for status and tests.
  reconnects = 0;
  connectedSince: number | undefined;
  lastError: string | undefined;
  garbageFrames = 0;
  private everReady = false;
  /** One warning per interval for garbage frames, with a count of the rest. */
  private readonly garbageLog: EveryInterval;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.dialer = opts.dialer ?? wsDialer;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger).child({ mod: "connection" });
    this.garbageLog = new EveryInterval(LOG_INTERVAL_MS, this.clock);
    this.backoff = new Backoff(
      {
        baseMs: opts.backoffBaseMs,
        maxMs: opts.backoffMaxMs,
        floorMs: opts.backoffFloorMs,
        factor: opts.backoffFactor,
        minUptimeMs: opts.minUptimeMs,
      },
      opts.random,
      () => this.clock.now(),
    );
    this.heartbeat = new Heartbeat(
      { intervalMs: opts.pingIntervalMs, pongTimeoutMs: opts.pongTimeoutMs, maxMissed: opts.maxMissedPongs },
      {
        sendPing: () => this.write(PING_FRAME),
        onStale: () => this.drop("heartbeat: pong missed, link is half-open"),
        onMiss: () => this.traffic.heartbeatMisses++,
      },
      this.clock,
    );
  }

  get state(): ConnState {
    return this._state;
  }
  get epoch(): number {
    return this._epoch;
  }
  get sessionUUID(): string | undefined {
    return this._sessionUUID;
  }

  /** True when a task frame may be written now: authenticated, and no pong outstanding. */
  get writable(): boolean {
    return isWritable(this._state) && this.heartbeat.missedPongs === 0 && this.socket !== undefined;
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Begin connecting (idempotent: a dial already under way is not repeated). */
  /** `resumeSessionUUID`: the session to ask for on the first authentication (a restarted daemon's, from its journal: docs/protocol.md §2.3). */
  start(resumeSessionUUID?: string): void {
    if (this._state !== "closed") return;
    if (resumeSessionUUID !== undefined) this._sessionUUID = resumeSessionUUID;
    this.dial("start");
  }

  /** Send a frame on the live socket. The caller checks `writable` first. */
  send(text: string, onWritten?: (err?: Error) => void): void {
    if (!this.socket) {
      onWritten?.(new Error(`upstream not connected: state ${this._state}`));
      return;
    }
    this.traffic.bytesOut += Buffer.byteLength(text);
    this.socket.send(text, onWritten);
  }

  /** A protocol frame (auth, ping), counted like the rest. */
  private write(text: string): void {
    if (!this.socket) return;
    this.traffic.bytesOut += Buffer.byteLength(text);
    this.socket.send(text);
  }

  /** Stop taking new work but keep the link (and its reconnects) for results still due. */
  drain(): void {
    this.draining = true;
    if (this._state === "ready") this.transition("draining", "drain requested");
  }

  /** Close for good: no reconnect. Every timer is cleared and the socket destroyed before it resolves. */
  close(reason = "closed by owner"): Promise<void> {
    if (this._state === "closed") return Promise.resolve();
    this.clearTimers();
    const sock = this.socket;
    this.socket = undefined;
    this._epoch++; // orphan the old socket's callbacks
    this.transition("closed", reason);
    if (sock) {
      // A polite close frame, then terminate: we do not wait the 30 s ws may take.
      try {
        sock.close(1000, "client closing");
      } finally {
        sock.terminate();
      }
    }
    return Promise.resolve();
  }

  private transition(to: ConnState, reason: string): void {
    const from = this._state;
    if (from === to) return;
    if (!ALLOWED[from].includes(to)) throw new Error(`illegal upstream transition ${from} -> ${to} (${reason})`);
    this._state = to;
    this.log.info({ from, to, reason, epoch: this._epoch }, `upstream ${from} -> ${to}`);
    this.emit("state", to, from, reason);
  }

  private dial(reason: string): void {
    const epoch = ++this._epoch;
    this.transition("connecting", reason);
    const live = () => epoch === this._epoch;
    try {
      this.socket = this.dialer(
        this.opts.url,
        {
          onOpen: () => {
            if (live()) this.onOpen();
          },
          onMessage: (text, bytes) => {
            this.traffic.bytesIn += bytes ?? Buffer.byteLength(text);
            if (live()) this.onMessage(text);
          },
          onClose: (code, why) => {
            if (live()) this.drop(`socket closed (${code}${why ? ` ${why}` : ""})`, code);
          },
          onError: (err) => {
            if (live()) this.drop(`socket error: ${err.message}`);
          },
        },
        { handshakeTimeoutMs: this.opts.handshakeTimeoutMs, maxPayload: this.opts.maxUpstreamFrameBytes },
      );
    } catch (err) {
      // e.g. a malformed URL: ws throws synchronously. Back off like any other failed dial.
      this.lastError = scrub((err as Error).message, this.opts.apiKey);
      queueMicrotask(() => {
        if (live()) this.drop(`dial failed: ${(err as Error).message}`);
      });
    }
  }

  private onOpen(): void {
    this.transition("authenticating", "socket open");
    // The key goes on the wire and nowhere else: never into a log line.
    this.write(encodeAuth(this.opts.apiKey, this._sessionUUID));
    this.authTimer = this.clock.setTimeout(
      () => this.drop(`no authentication reply within ${this.opts.authTimeoutMs} ms`),
      this.opts.authTimeoutMs,
    );
  }

  private onMessage(raw: string): void {
    // Whatever Runware echoes of the key (an error message quoting the auth frame) goes no further.
    const text = scrub(raw, this.opts.apiKey);
    const wasSuspect = this.heartbeat.missedPongs > 0;
    this.heartbeat.work();
    // Sizes only: frame contents can be large, and nothing from the wire is logged whole.
    if (this.log.isLevelEnabled("trace")) this.log.trace({ bytes: text.length, epoch: this._epoch }, "frame in");
    // Sends were held while a pong was missing; the link has proved itself again.
    if (wasSuspect && isWritable(this._state)) queueMicrotask(() => this.emit("writable"));
    let frame: SplitFrame;
    try {
      frame = splitFrame(text, this.opts.maxJsonDepth);
    } catch (err) {
      // A garbage frame must not kill the link (docs/protocol.md §1.3: ignore unparseable frames).
      this.garbageFrames++;
      const held = this.garbageLog.hit();
      if (held !== undefined) {
        this.log.warn({ err: (err as Error).message, bytes: text.length, heldBack: held }, "ignored an unparseable upstream frame");
      }
      return;
    }
    if (this._state === "authenticating") {
      // Before auth, an error that names no task can only be about the auth: Runware's example
      // carries taskType "authentication", but one without it must not leave us waiting 15 s.
      const errors = frame.auth.errors.length > 0 ? frame.auth.errors : frame.orphanErrors;
      if (frame.auth.items.length > 0 || errors.length > 0) this.onAuthReply(frame.auth.items, errors);
    }
    if (frame.tasks.size > 0 || frame.orphanErrors.length > 0) this.emit("frame", frame);
  }

  private onAuthReply(items: ReadonlyArray<Record<string, unknown>>, errors: readonly RunwareErrorObject[]): void {
    this.clock.clearTimeout(this.authTimer);
    this.authTimer = undefined;
    const err = errors[0];
    if (err) {
      this.lastError = `${err.code}: ${err.message}`;
      if (err.code === "invalidApiKey") {
        const authErr = new AuthError(err.code, err.message || "Runware rejected the API key");
        this.stopSocket();
        this.transition("auth-failed", "invalidApiKey");
        this.emit("authFailed", authErr);
        return;
      }
      this.drop(`authentication failed: ${err.code}`);
      return;
    }
    const session = items.find((i) => typeof i["connectionSessionUUID"] === "string")?.["connectionSessionUUID"];
    if (typeof session !== "string") {
      // rw-ts and rw-py fail auth when the session UUID is missing; so do we.
      this.drop("authentication reply without connectionSessionUUID");
      return;
    }
    const asked = this._sessionUUID;
    this._sessionUUID = session;
    const resumed = asked !== undefined && asked === session;
    if (this.everReady) this.reconnects++;
    this.everReady = true;
    this.connectedSince = this.clock.now();
    this.backoff.up();
    this.heartbeat.start();
    this.transition(this.draining ? "draining" : "ready", resumed ? "authenticated, session resumed" : "authenticated");
    this.emit("ready", { sessionUUID: session, resumed, epoch: this._epoch });
  }

  /** The live link is unusable: tear it down and schedule the next dial. */
  private drop(why: string, closeCode?: number): void {
    const reason = scrub(why, this.opts.apiKey);
    if (this._state === "closed" || this._state === "auth-failed" || this._state === "backoff") return;
    const epoch = this._epoch;
    const wasUp = isWritable(this._state);
    this.lastError = reason;
    this.stopSocket();
    if (wasUp) this.backoff.down();
    this.connectedSince = undefined;
    const delay = this.backoff.next();
    this.transition("backoff", `${reason}; retry in ${delay} ms`);
    this.emit("down", epoch, reason, closeCode);
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.dial(`attempt ${this.backoff.attempts}`);
    }, delay);
  }

  /** Forget the current socket: epoch moves on, timers stop, the socket is destroyed. */
  private stopSocket(): void {
    this.clearTimers();
    const sock = this.socket;
    this.socket = undefined;
    this._epoch++;
    sock?.terminate();
  }

  private clearTimers(): void {
    this.heartbeat.stop();
    this.clock.clearTimeout(this.authTimer);
    this.clock.clearTimeout(this.backoffTimer);
    this.authTimer = undefined;
    this.backoffTimer = undefined;
  }
}
