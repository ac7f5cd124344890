/**
 * Connection logic against an in-process mock-socket upstream, under fake timers: every delay is
 * exact and nothing sleeps. mock-socket delivers through setTimeout(…, 4), which the fake clock
 * drives; `advanceUntil` jumps from timer to timer until the awaited condition holds.
 */
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { Connection, type ConnectionOptions, type ReadyInfo } from "../../src/upstream/connection.js";
import type { ConnState } from "../../src/upstream/state.js";
import type { SplitFrame } from "../../src/protocol/codec.js";
import { PING_FRAME } from "../../src/protocol/codec.js";
import { AuthError } from "../../src/errors.js";
import { pino } from "pino";
import { MockUpstream, type MockUpstreamOptions } from "../helpers/mock-transport.js";

const TASK_UUID = "a770f077-f413-47de-9dac-be0b26a35da6";

/** Tiny, distinct values so each timer is recognisable in the assertions. */
const TIMING = {
  handshakeTimeoutMs: 1_000,
  authTimeoutMs: 300,
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  backoffFloorMs: 10,
  backoffFactor: 2,
  minUptimeMs: 500,
  pingIntervalMs: 2_000,
  pongTimeoutMs: 200,
  maxMissedPongs: 2,
} as const;

/** With random 0.5 the n-th backoff is half of min(max, base·2^n): 50, 100, 200, 400, 500, ... */
const HALF = () => 0.5;
const delayFor = (attempt: number) =>
  Math.max(TIMING.backoffFloorMs, Math.floor(0.5 * Math.min(TIMING.backoffMaxMs, TIMING.backoffBaseMs * 2 ** attempt)));

/** Runs fake time forward, timer by timer, until `cond` holds (or fails after `maxMs` of fake time). */
async function advanceUntil(cond: () => boolean, what: string, maxMs = 60_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!cond()) {
    if (vi.getTimerCount() === 0) throw new Error(`never happened (no timer left): ${what}`);
    if (Date.now() > deadline) throw new Error(`not within ${maxMs} ms: ${what}`);
    await vi.advanceTimersToNextTimerAsync();
  }
}

interface Harness {
  up: MockUpstream;
  conn: Connection;
  /** Every state change with the fake time it happened at. */
  timeline: Array<{ to: ConnState; at: number; reason: string }>;
  states: () => ConnState[];
  readies: ReadyInfo[];
  frames: SplitFrame[];
  downs: Array<{ epoch: number; reason: string }>;
  authFailures: AuthError[];
  /** Time of the n-th (0-based) move to `to`. */
  timeOf: (to: ConnState, n?: number) => number;
  count: (to: ConnState) => number;
}

let live: Harness | undefined;

function setup(upstreamOpts: MockUpstreamOptions = {}, connOpts: Partial<ConnectionOptions> = {}): Harness {
  const up = new MockUpstream(upstreamOpts);
  const conn = new Connection({ url: up.url, apiKey: "test-key", ...TIMING, random: HALF, dialer: up.dialer, ...connOpts });
  const h: Harness = {
    up,
    conn,
    timeline: [],
    states: () => h.timeline.map((e) => e.to),
    readies: [],
    frames: [],
    downs: [],
    authFailures: [],
    timeOf(to, n = 0) {
      const hit = h.timeline.filter((e) => e.to === to)[n];
      if (!hit) throw new Error(`no move #${n} to ${to}; states: ${h.states().join(" > ")}`);
      return hit.at;
    },
    count: (to) => h.timeline.filter((e) => e.to === to).length,
  };
  conn.on("state", (to, _from, reason) => h.timeline.push({ to, at: Date.now(), reason }));
  conn.on("ready", (info) => h.readies.push(info));
  conn.on("frame", (f) => h.frames.push(f));
  conn.on("down", (epoch, reason) => h.downs.push({ epoch, reason }));
  conn.on("authFailed", (e) => h.authFailures.push(e));
  live = h;
  return h;
}

async function readyN(h: Harness, n: number): Promise<void> {
  await advanceUntil(() => h.readies.length >= n, `ready #${n}`);
}

/** A result frame for one task, as Runware sends it. */
function resultFrame(imageUUID: string): unknown {
  return { data: [{ taskType: "imageInference", taskUUID: TASK_UUID, imageUUID }] };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  if (live) {
    await live.conn.close("test over");
    live.up.stop();
    live = undefined;
  }
  vi.useRealTimers();
});

describe("connection - connect and authenticate", () => {
  it("connection - goes connecting > authenticating > ready and reports a fresh session", async () => {
    const h = setup();
    h.conn.start();
    await readyN(h, 1);
    expect(h.states()).toEqual(["connecting", "authenticating", "ready"]);
    expect(h.readies).toEqual([{ sessionUUID: h.up.peer.sessions[0], resumed: false, epoch: h.conn.epoch }]);
    expect(h.conn.sessionUUID).toBe(h.up.peer.sessions[0]);
    expect(h.conn.state).toBe("ready");
    expect(h.conn.writable).toBe(true);
    expect(h.conn.reconnects).toBe(0);
  });

  it("connection - the auth frame is the first and only frame before the reply, with no taskUUID", async () => {
    const h = setup({ auth: "silent" });
    h.conn.start();
    await advanceUntil(() => h.up.peers[0]?.frames.length === 1, "auth frame");
    // Nothing else may be written while authenticating, not even a ping.
    await vi.advanceTimersByTimeAsync(TIMING.authTimeoutMs - 10);
    const peer = h.up.peers[0]!;
    expect(peer.frames).toHaveLength(1);
    expect(JSON.parse(peer.frames[0]!)).toEqual([{ taskType: "authentication", apiKey: "test-key" }]);
    expect(h.conn.writable).toBe(false);
  });

  it("connection - start() while a dial is under way does not dial again", async () => {
    const h = setup();
    h.conn.start();
    h.conn.start();
    await readyN(h, 1);
    h.conn.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(h.up.dials).toBe(1);
    expect(h.up.peers).toHaveLength(1);
  });
});

describe("connection - session resume", () => {
  it("connection - re-authenticates with the previous connectionSessionUUID and reports resumed when echoed", async () => {
    const h = setup({ auth: "resume" });
    h.conn.start();
    await readyN(h, 1);
    const first = h.readies[0]!.sessionUUID;
    h.up.peers[0]!.close();
    await readyN(h, 2);
    expect(JSON.parse(h.up.peers[1]!.frames[0]!)).toEqual([
      { taskType: "authentication", apiKey: "test-key", connectionSessionUUID: first },
    ]);
    expect(h.readies[1]).toEqual({ sessionUUID: first, resumed: true, epoch: h.conn.epoch });
    expect(h.states()).toEqual(["connecting", "authenticating", "ready", "backoff", "connecting", "authenticating", "ready"]);
    expect(h.conn.reconnects).toBe(1);
    expect(h.downs).toHaveLength(1);
  });

  it("connection - a different session from the server is not a resume, and is the one asked for next time", async () => {
    const h = setup({ auth: "new" });
    h.conn.start();
    await readyN(h, 1);
    h.up.peers[0]!.close();
    await readyN(h, 2);
    const [s1, s2] = [h.readies[0]!.sessionUUID, h.readies[1]!.sessionUUID];
    expect(s2).not.toBe(s1);
    expect(h.readies[1]!.resumed).toBe(false);
    expect(h.conn.sessionUUID).toBe(s2);
    h.up.peers[1]!.close();
    await advanceUntil(() => h.up.peers[2]?.frames.length === 1, "third auth frame");
    expect(JSON.parse(h.up.peers[2]!.frames[0]!)[0].connectionSessionUUID).toBe(s2);
  });
});

describe("connection - authentication failures", () => {
  it("connection - invalidApiKey ends in auth-failed, emits authFailed once, and never dials again", async () => {
    const h = setup({ auth: "invalidApiKey" });
    h.conn.start();
    await advanceUntil(() => h.authFailures.length > 0, "authFailed");
    expect(h.states()).toEqual(["connecting", "authenticating", "auth-failed"]);
    expect(h.authFailures).toHaveLength(1);
    expect(h.authFailures[0]).toBeInstanceOf(AuthError);
    expect(h.authFailures[0]!.code).toBe("invalidApiKey");
    expect(h.conn.lastError).toContain("invalidApiKey");
    // Far beyond any backoff: still one connection, and nothing scheduled at all.
    await vi.advanceTimersByTimeAsync(TIMING.backoffMaxMs * 20);
    expect(h.up.dials).toBe(1);
    expect(h.up.peers).toHaveLength(1);
    expect(h.up.peers[0]!.closed).toBe(true);
    expect(h.conn.state).toBe("auth-failed");
    expect(h.conn.writable).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("connection - an auth reply without connectionSessionUUID backs off, then redials", async () => {
    const h = setup({ auth: "noSession" });
    h.conn.start();
    await advanceUntil(() => h.up.peers.length === 2, "second connection");
    expect(h.states().slice(0, 5)).toEqual(["connecting", "authenticating", "backoff", "connecting", "authenticating"]);
    expect(h.readies).toEqual([]);
    expect(h.timeOf("connecting", 1) - h.timeOf("backoff", 0)).toBe(delayFor(0));
    expect(h.up.peers[0]!.closed).toBe(true);
  });

  it("connection - no auth reply within authTimeoutMs backs off, with growing delays while it never gets ready", async () => {
    const h = setup({ auth: "silent" });
    h.conn.start();
    await advanceUntil(() => h.count("backoff") === 3, "three backoffs");
    for (let n = 0; n < 3; n++) {
      expect(h.timeOf("backoff", n) - h.timeOf("authenticating", n)).toBe(TIMING.authTimeoutMs);
    }
    expect(h.timeOf("connecting", 1) - h.timeOf("backoff", 0)).toBe(delayFor(0));
    expect(h.timeOf("connecting", 2) - h.timeOf("backoff", 1)).toBe(delayFor(1));
    expect(h.downs.map((d) => d.reason)).toEqual(Array(3).fill(`no authentication reply within ${TIMING.authTimeoutMs} ms`));
    // Each abandoned socket is closed, not left dangling (its close event lands one mock tick later).
    await vi.advanceTimersByTimeAsync(5);
    expect(h.up.peers.slice(0, 3).every((p) => p.closed)).toBe(true);
  });
});

describe("connection - backoff across reconnects", () => {
  it("connection - a link dropped before minUptimeMs keeps growing the delay; one that lasted resets it", async () => {
    const h = setup();
    h.conn.start();
    const gaps: number[] = [];
    for (let n = 1; n <= 3; n++) {
      await readyN(h, n);
      h.up.peer.close(); // dropped right after ready: not stable
      await advanceUntil(() => h.count("connecting") === n + 1, `redial #${n}`);
      gaps.push(h.timeOf("connecting", n) - h.timeOf("backoff", n - 1));
    }
    expect(gaps).toEqual([delayFor(0), delayFor(1), delayFor(2)]);
    await readyN(h, 4);
    await vi.advanceTimersByTimeAsync(TIMING.minUptimeMs);
    h.up.peer.close();
    await advanceUntil(() => h.count("connecting") === 5, "redial after a stable link");
    expect(h.timeOf("connecting", 4) - h.timeOf("backoff", 3)).toBe(delayFor(0));
  });

  it("connection - a dial that fails (nothing listening) backs off once per attempt and keeps trying", async () => {
    const h = setup();
    h.up.stop(); // mock-socket raises 'error' then 'close' for the same failed dial
    h.conn.start();
    await advanceUntil(() => h.up.dials === 3, "three dials");
    expect(h.downs).toHaveLength(2);
    expect(h.states()).toEqual(["connecting", "backoff", "connecting", "backoff", "connecting"]);
    expect(h.conn.lastError).toContain("mock socket error");
  });
});

describe("connection - inbound frames", () => {
  it("connection - a garbage frame is counted and ignored; the link stays ready and keeps routing", async () => {
    const h = setup();
    h.conn.start();
    await readyN(h, 1);
    const peer = h.up.peer;
    peer.send("this is not json {");
    peer.send("[1, 2]");
    expect(h.conn.garbageFrames).toBe(2);
    expect(h.frames).toEqual([]);
    peer.sendJson(resultFrame("img-1"));
    expect(h.frames).toHaveLength(1);
    expect(h.frames[0]!.tasks.get(TASK_UUID)!.items[0]!["imageUUID"]).toBe("img-1");
    await vi.advanceTimersByTimeAsync(TIMING.pingIntervalMs * 3);
    expect(h.states()).toEqual(["connecting", "authenticating", "ready"]);
    expect(h.conn.writable).toBe(true);
  });

  it("connection - garbage frames are logged once per interval with a count of the rest, not once each", async () => {
    const lines: Array<{ msg: string; heldBack?: number }> = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => lines.push(JSON.parse(l) as { msg: string; heldBack?: number }) });
    const h = setup({}, { logger });
    h.conn.start();
    await readyN(h, 1);
    for (let i = 0; i < 1_000; i++) h.up.peer.send("not json");
    await vi.advanceTimersByTimeAsync(10_000);
    h.up.peer.send("not json");
    const warned = lines.filter((l) => l.msg === "ignored an unparseable upstream frame");
    expect(h.conn.garbageFrames).toBe(1_001);
    expect(warned.map((l) => l.heldBack)).toEqual([0, 999]);
  });

  it("connection - the API key echoed by the upstream is scrubbed from frames, errors and close reasons", async () => {
    const key = "rw-secret-key-0123456789";
    const h = setup({}, { apiKey: key });
    h.conn.start();
    await readyN(h, 1);
    h.up.peer.sendJson({ errors: [{ code: "invalidModel", message: `bad request from key ${key}`, taskUUID: TASK_UUID }] });
    const err = h.frames[0]!.tasks.get(TASK_UUID)!.errors[0]!;
    expect(err.message).toBe("bad request from key [redacted]");
    h.up.peer.close(4000, `closing ${key}`);
    await advanceUntil(() => h.downs.length === 1, "down");
    expect(h.downs[0]!.reason).not.toContain(key);
    expect(h.conn.lastError).not.toContain(key);
    expect(h.conn.lastError).toContain("[redacted]");
  });

  it("connection - pings an idle link and stays ready while pongs come back", async () => {
    const h = setup({ answerPings: true });
    h.conn.start();
    await readyN(h, 1);
    await vi.advanceTimersByTimeAsync(TIMING.pingIntervalMs * 5 + 50);
    expect(h.up.peer.frames.filter((f) => f === PING_FRAME)).toHaveLength(5);
    expect(h.states()).toEqual(["connecting", "authenticating", "ready"]);
    expect(h.frames).toEqual([]); // a pong is not a result
  });

  it("connection - a half-open link (pongs missing) is dropped within pingInterval + maxMissed × pongTimeout and redialled", async () => {
    const h = setup({ answerPings: false });
    h.conn.start();
    await readyN(h, 1);
    const lastFrameAt = h.timeOf("ready"); // the auth reply is the last thing the link delivers
    await advanceUntil(() => h.conn.state === "backoff", "stale");
    expect(h.timeOf("backoff") - lastFrameAt).toBe(TIMING.pingIntervalMs + TIMING.maxMissedPongs * TIMING.pongTimeoutMs);
    expect(h.up.peers[0]!.frames.filter((f) => f === PING_FRAME)).toHaveLength(TIMING.maxMissedPongs);
    expect(h.downs[0]!.reason).toMatch(/heartbeat/);
    await readyN(h, 2);
  });
});

describe("connection - epoch guard", () => {
  it("connection - a socket left behind can neither deliver frames nor drop the live link", async () => {
    const h = setup({ answerPings: false });
    h.conn.start();
    await readyN(h, 1);
    const old = h.up.peers[0]!;
    // The connection gives up on the half-open link and moves on...
    await advanceUntil(() => h.conn.state === "backoff", "stale");
    // ...but the old socket still delivers a result, then reports an error.
    old.sendJson(resultFrame("late-on-old-socket"));
    old.raiseError();
    expect(h.frames).toEqual([]);
    expect(h.conn.state).toBe("backoff");
    h.up.answerPings = true;
    await readyN(h, 2);
    const downsBefore = h.downs.length;
    // With the new link ready, the old socket speaks again: it must not reach the owner.
    old.sendJson(resultFrame("later-on-old-socket"));
    old.send("garbage from the old socket");
    old.raiseError();
    old.close();
    await vi.advanceTimersByTimeAsync(50);
    expect(h.frames).toEqual([]);
    expect(h.conn.garbageFrames).toBe(0);
    expect(h.conn.state).toBe("ready");
    expect(h.downs).toHaveLength(downsBefore);
    // The live socket still routes.
    h.up.peers[1]!.sendJson(resultFrame("on-live-socket"));
    expect(h.frames.map((f) => f.tasks.get(TASK_UUID)!.items[0]!["imageUUID"])).toEqual(["on-live-socket"]);
  });
});

describe("connection - close()", () => {
  it("connection - close() when ready ends in closed, closes the socket and leaves no timer", async () => {
    const h = setup();
    h.conn.start();
    await readyN(h, 1);
    await h.conn.close("done");
    expect(h.conn.state).toBe("closed");
    expect(h.states().at(-1)).toBe("closed");
    expect(h.conn.writable).toBe(false);
    await vi.advanceTimersByTimeAsync(10); // mock-socket's close event tick
    expect(h.up.peer.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    // No ping, no redial: nothing happens any more.
    await vi.advanceTimersByTimeAsync(TIMING.pingIntervalMs * 5);
    expect(h.up.dials).toBe(1);
    expect(h.up.peer.frames).toHaveLength(1);
    expect(h.states().at(-1)).toBe("closed");
  });

  it("connection - close() during backoff cancels the redial", async () => {
    const h = setup({ auth: "noSession" });
    h.conn.start();
    await advanceUntil(() => h.conn.state === "backoff", "backoff");
    await h.conn.close();
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(TIMING.backoffMaxMs * 5);
    expect(h.up.dials).toBe(1);
    expect(h.states()).toEqual(["connecting", "authenticating", "backoff", "closed"]);
  });

  it("connection - close() while authenticating cancels the auth timeout", async () => {
    const h = setup({ auth: "silent" });
    h.conn.start();
    await advanceUntil(() => h.conn.state === "authenticating", "authenticating");
    await h.conn.close();
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(0);
    expect(h.states()).toEqual(["connecting", "authenticating", "closed"]);
    expect(h.downs).toEqual([]);
  });

  it("connection - close() twice is harmless and the second resolves at once", async () => {
    const h = setup();
    h.conn.start();
    await readyN(h, 1);
    await Promise.all([h.conn.close(), h.conn.close()]);
    expect(h.count("closed")).toBe(1);
  });
});
