/**
 * Sessions (`connectionSessionUUID`). A session owns its tasks' output and outlives its connection:
 * Runware keeps results it could not deliver for 120 s and hands them to a connection that
 * re-authenticates with the old `connectionSessionUUID` (docs/protocol.md §2.3). A session is
 * attached to at most one connection.
 */
import { randomUUID } from "node:crypto";
import type { SimConnection } from "./connection.js";
import type { Timers } from "./timers.js";
import type { Item, OutFrame, WireError } from "./wire.js";

interface SessionEnv {
  timers: Timers;
  coalesceMs(): number;
  resumeBufferMs(): number;
  /** The session expired or was forgotten: it can no longer be resumed. */
  onGone(session: Session): void;
}

export class Session {
  readonly uuid = randomUUID();
  connection: SimConnection | undefined;
  /** Forgotten or expired: undeliverable output is dropped instead of buffered. */
  private gone = false;
  private buffer: OutFrame[] = [];
  private expiry: NodeJS.Timeout | undefined;
  private pending: { data: Item[]; errors: WireError[] } | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly env: SessionEnv) {}

  /** Output of one of this session's tasks. With `coalesceMs` > 0, outputs within the window share a frame. */
  emit(frame: OutFrame): void {
    const window = this.env.coalesceMs();
    if (window <= 0) return this.deliver(frame);
    this.pending ??= { data: [], errors: [] };
    this.pending.data.push(...(frame.data ?? []));
    this.pending.errors.push(...(frame.errors ?? []));
    this.pendingTimer ??= this.env.timers.after(window, () => {
      const merged = this.pending;
      this.pending = undefined;
      this.pendingTimer = undefined;
      if (!merged) return;
      this.deliver({
        ...(merged.data.length ? { data: merged.data } : {}),
        ...(merged.errors.length ? { errors: merged.errors } : {}),
      });
    });
  }

  /** To the attached connection, else into the resume buffer. */
  private deliver(frame: OutFrame): void {
    if (this.connection) this.connection.sendSessionFrame(frame, this);
    else this.keep([frame]);
  }

  /** A connection could not write `frame` (socket closing, or detached meanwhile). */
  undelivered(frame: OutFrame, from: SimConnection): void {
    if (this.connection && this.connection !== from) this.connection.sendSessionFrame(frame, this);
    else this.keep([frame]);
  }

  private keep(frames: OutFrame[]): void {
    if (!this.gone) this.buffer.push(...frames);
  }

  /**
   * Bind to `conn` after a successful auth: detaches `conn` from any other session and this session
   * from any other connection (whose not-yet-written output comes here), then flushes the buffer in order.
   */
  attach(conn: SimConnection): void {
    if (conn.session && conn.session !== this) conn.session.detach(conn);
    const old = this.connection;
    if (old && old !== conn) {
      old.session = undefined;
      this.keep(old.takeSessionFrames(this));
    }
    this.env.timers.cancel(this.expiry);
    this.expiry = undefined;
    this.connection = conn;
    conn.session = this;
    const buffered = this.buffer;
    this.buffer = [];
    for (const frame of buffered) conn.sendSessionFrame(frame, this);
  }

  /** `conn` went away: keep its unwritten output and start the resume window. */
  detach(conn: SimConnection): void {
    if (this.connection !== conn) return;
    this.connection = undefined;
    conn.session = undefined;
    this.keep(conn.takeSessionFrames(this));
    if (this.gone) return;
    this.env.timers.cancel(this.expiry);
    this.expiry = this.env.timers.after(this.env.resumeBufferMs(), () => this.forget());
  }

  /** Drop the buffer and make the session unresumable. A live connection keeps receiving output. */
  forget(): void {
    if (this.gone) return;
    this.gone = true;
    this.buffer = [];
    this.env.timers.cancel(this.expiry);
    this.expiry = undefined;
    this.env.onGone(this);
  }

  /** Frames waiting for a resume. */
  get buffered(): number {
    return this.buffer.length;
  }
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly env: Omit<SessionEnv, "onGone">) {}

  create(): Session {
    const session = new Session({ ...this.env, onGone: (s) => this.sessions.delete(s.uuid) });
    this.sessions.set(session.uuid, session);
    return session;
  }

  /** A resumable session, or undefined when unknown, expired or forgotten. */
  get(uuid: string): Session | undefined {
    return this.sessions.get(uuid);
  }

  forgetAll(): void {
    for (const s of this.sessions.values()) s.forget();
  }
}
