/**
 * An in-process upstream for Connection unit tests: a `Dialer` backed by mock-socket's `Server` and
 * browser-shaped `WebSocket`, so the connection logic runs with no network and, if the test wants,
 * under fake timers (mock-socket delivers through `setTimeout(…, 4)`, which vitest fakes).
 *
 * mock-socket mimics the browser API (docs/protocol.md §11.8): EventTarget listeners, close codes
 * limited to 1000 or 3000–4999, no `ping()`, no `terminate()`, no real `bufferedAmount`. The adapter
 * below fills those gaps; `terminate()` is a `close()` that the transport treats as done at once
 * (later sends fail), while the socket's own late events still reach the Connection, which must
 * ignore them by epoch. The integration tests use a real `ws` server instead.
 */
import { randomUUID } from "node:crypto";
import { Server, WebSocket, type Client } from "mock-socket";
import { AUTH_TASK_TYPE, PING_TASK_TYPE, PONG_FRAME } from "../../src/protocol/codec.js";
import type { Dialer, Transport } from "../../src/upstream/transport.js";

/** How the mock answers an `authentication` frame. */
export type AuthMode =
  /** Echo the session asked for, or issue a new one: Runware resuming within its 120 s window. */
  | "resume"
  /** Always issue a new session: the buffer has expired (or Runware lost it). */
  | "new"
  /** Reject with `invalidApiKey`, the shape of docs/protocol.md §2.2. */
  | "invalidApiKey"
  /** Reply with an auth item that has no `connectionSessionUUID`. */
  | "noSession"
  /** Never reply. */
  | "silent";

/** One accepted connection, seen from the server side. */
export class MockPeer {
  /** Every text frame the client sent on this connection, in order. */
  readonly frames: string[] = [];
  /** Session UUIDs this peer issued in auth replies. */
  readonly sessions: string[] = [];
  /** The socket is closed, from either side. */
  closed = false;

  constructor(
    readonly index: number,
    private readonly socket: Client,
  ) {}

  /** Server → client text frame. mock-socket delivers it synchronously, whatever the state. */
  send(text: string): void {
    this.socket.send(text);
  }

  sendJson(frame: unknown): void {
    this.send(JSON.stringify(frame));
  }

  /** Server-initiated close; the client sees 'close' one mock-socket tick later. */
  close(code = 1000, reason = "server closing"): void {
    this.socket.close({ code, reason, wasClean: true });
  }

  /** Make the client's socket raise an 'error' event, as a reset connection would. */
  raiseError(): void {
    this.socket.target.dispatchEvent(new Event("error"));
  }
}

let seq = 0;

export interface MockUpstreamOptions {
  auth?: AuthMode;
  /** Answer `[{"taskType":"ping","ping":true}]` with a pong (default true). */
  answerPings?: boolean;
}

/**
 * A mock Runware endpoint on a URL of its own (mock-socket routes by URL across the whole process,
 * so each instance gets a fresh one). `stop()` it in afterEach.
 */
export class MockUpstream {
  readonly url = `ws://runware.mock/${++seq}`;
  /** Accepted connections, in order. */
  readonly peers: MockPeer[] = [];
  /** Times the dialer was called (a dial to a stopped server never becomes a peer). */
  dials = 0;
  auth: AuthMode;
  answerPings: boolean;
  /** Extra behaviour for non-auth, non-ping frames (results for tasks, say). */
  onTaskFrame: ((text: string, peer: MockPeer) => void) | undefined;
  private readonly server: Server;
  /** Transports handed out, so stop() can close any the test left open. */
  private readonly sockets = new Set<WebSocket>();

  constructor(opts: MockUpstreamOptions = {}) {
    this.auth = opts.auth ?? "resume";
    this.answerPings = opts.answerPings ?? true;
    // mock:false: do not replace globalThis.WebSocket; the dialer uses mock-socket's class directly.
    this.server = new Server(this.url, { mock: false });
    this.server.on("connection", (socket) => {
      const peer = new MockPeer(this.peers.length, socket);
      this.peers.push(peer);
      socket.on("message", (data) => {
        // The daemon sends text frames only; anything else is kept as a marker the assertions will see.
        const text = typeof data === "string" ? data : `<binary frame ${Object.prototype.toString.call(data)}>`;
        peer.frames.push(text);
        this.answer(text, peer);
      });
      socket.on("close", () => {
        peer.closed = true;
      });
    });
  }

  /** The live (last accepted) connection. */
  get peer(): MockPeer {
    const p = this.peers.at(-1);
    if (!p) throw new Error("no connection accepted yet");
    return p;
  }

  /** Dials this mock. There is no handshake to time out: mock-socket opens or fails after one tick. */
  readonly dialer: Dialer = (url, events) => {
    this.dials++;
    const ws = new WebSocket(url);
    this.sockets.add(ws);
    let terminated = false;
    ws.addEventListener("open", () => events.onOpen());
    ws.addEventListener("message", (ev: unknown) => {
      const { data } = ev as { data: unknown };
      if (typeof data === "string") events.onMessage(data); // Runware speaks text frames only
    });
    // mock-socket's error event carries no detail; give the Connection something to report.
    ws.addEventListener("error", () => events.onError(new Error("mock socket error")));
    ws.addEventListener("close", (ev: unknown) => {
      this.sockets.delete(ws);
      const { code, reason } = ev as { code: number; reason: string };
      events.onClose(code, reason);
    });
    const transport: Transport = {
      send(text, onWritten) {
        if (terminated || ws.readyState !== WebSocket.OPEN) {
          onWritten?.(new Error(`ws not open: readyState ${ws.readyState}`));
          return;
        }
        ws.send(text);
        // ws reports a write asynchronously; so does this.
        if (onWritten) queueMicrotask(() => onWritten());
      },
      get bufferedAmount() {
        return 0; // mock-socket does not model a send buffer
      },
      close(code, reason) {
        // The browser API only takes 1000 or 3000–4999; anything else is sent as a plain 1000.
        const valid = code === undefined || code === 1000 || (code >= 3000 && code <= 4999);
        ws.close(valid ? code : 1000, reason);
      },
      terminate() {
        // No terminate() in the browser API: close at once and refuse further sends.
        terminated = true;
        ws.close();
      },
    };
    return transport;
  };

  /** Remove the server (later dials fail) and close every socket still open. */
  stop(): void {
    for (const ws of this.sockets) ws.close();
    this.sockets.clear();
    this.server.stop();
  }

  private answer(text: string, peer: MockPeer): void {
    let tasks: Array<Record<string, unknown>>;
    try {
      tasks = JSON.parse(text) as Array<Record<string, unknown>>;
    } catch {
      return;
    }
    const first = Array.isArray(tasks) ? tasks[0] : undefined;
    if (first?.["taskType"] === AUTH_TASK_TYPE) this.answerAuth(first, peer);
    else if (first?.["taskType"] === PING_TASK_TYPE) {
      if (this.answerPings) peer.send(PONG_FRAME);
    } else this.onTaskFrame?.(text, peer);
  }

  private answerAuth(task: Record<string, unknown>, peer: MockPeer): void {
    const asked = typeof task["connectionSessionUUID"] === "string" ? task["connectionSessionUUID"] : undefined;
    switch (this.auth) {
      case "silent":
        return;
      case "invalidApiKey":
        peer.sendJson({
          errors: [{ code: "invalidApiKey", message: "Invalid API key.", parameter: "apiKey", taskType: AUTH_TASK_TYPE }],
        });
        return;
      case "noSession":
        peer.sendJson({ data: [{ taskType: AUTH_TASK_TYPE }] });
        return;
      case "resume":
      case "new": {
        const session = this.auth === "resume" && asked ? asked : randomUUID();
        peer.sessions.push(session);
        peer.sendJson({ data: [{ taskType: AUTH_TASK_TYPE, connectionSessionUUID: session }] });
        return;
      }
    }
  }
}
