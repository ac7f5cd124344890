import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { Heartbeat, type HeartbeatOptions } from "../../src/upstream/heartbeat.js";

const OPTS: HeartbeatOptions = { intervalMs: 1_000, pongTimeoutMs: 300, maxMissed: 2 };

/** A Heartbeat wired to counters, in the nats `pm()` style: the test plays the server. */
function harness(opts: HeartbeatOptions = OPTS) {
  const pings: number[] = [];
  const stale: number[] = [];
  const hb = new Heartbeat(opts, {
    sendPing: () => pings.push(Date.now()),
    onStale: () => stale.push(Date.now()),
  });
  return { hb, pings, stale };
}

describe("heartbeat - idle-aware ping and stale detection", () => {
  let t0: number;
  beforeEach(() => {
    vi.useFakeTimers();
    t0 = Date.now();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("heartbeat - never pings while frames keep arriving", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    // A frame every half interval for 20 intervals: the link is busy, so it is never pinged.
    for (let i = 0; i < 40; i++) {
      vi.advanceTimersByTime(OPTS.intervalMs / 2);
      hb.work();
    }
    expect(pings).toEqual([]);
    expect(stale).toEqual([]);
    expect(hb.running).toBe(true);
    hb.stop();
  });

  it("heartbeat - pings once intervalMs has passed without a frame", () => {
    const { hb, pings } = harness();
    hb.start();
    vi.advanceTimersByTime(OPTS.intervalMs - 1);
    expect(pings).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(pings).toEqual([t0 + OPTS.intervalMs]);
    hb.stop();
  });

  it("heartbeat - the silence is counted from the last frame, not from start()", () => {
    const { hb, pings } = harness();
    hb.start();
    vi.advanceTimersByTime(700);
    hb.work();
    vi.advanceTimersByTime(OPTS.intervalMs - 1); // t0 + 1699: 999 ms of silence
    expect(pings).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(pings).toEqual([t0 + 700 + OPTS.intervalMs]);
    hb.stop();
  });

  it("heartbeat - a missed pong sends the next ping at once, not an interval later", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    vi.advanceTimersByTime(OPTS.intervalMs + OPTS.pongTimeoutMs);
    expect(pings).toEqual([t0 + OPTS.intervalMs, t0 + OPTS.intervalMs + OPTS.pongTimeoutMs]);
    expect(hb.missedPongs).toBe(1);
    expect(stale).toEqual([]);
    hb.stop();
  });

  it("heartbeat - goes stale after maxMissed misses, exactly intervalMs + maxMissed × pongTimeoutMs after the last frame", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    vi.advanceTimersByTime(250);
    hb.work(); // the last frame the dead link ever delivers
    const lastFrame = Date.now();
    const budget = OPTS.intervalMs + OPTS.maxMissed * OPTS.pongTimeoutMs;
    vi.advanceTimersByTime(budget - 1);
    expect(stale).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stale).toEqual([lastFrame + budget]);
    expect(pings).toHaveLength(OPTS.maxMissed);
    expect(hb.running).toBe(false);
    // Once stale it stays quiet: the owner decides what happens next.
    vi.advanceTimersByTime(budget * 5);
    expect(stale).toHaveLength(1);
    expect(pings).toHaveLength(OPTS.maxMissed);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("heartbeat - maxMissed 1 goes stale after one unanswered ping", () => {
    const opts = { ...OPTS, maxMissed: 1 };
    const { hb, pings, stale } = harness(opts);
    hb.start();
    vi.advanceTimersByTime(opts.intervalMs + opts.pongTimeoutMs);
    expect(pings).toHaveLength(1);
    expect(stale).toEqual([t0 + opts.intervalMs + opts.pongTimeoutMs]);
  });

  it("heartbeat - a pong resets the missed count and the link is not declared stale", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    vi.advanceTimersByTime(OPTS.intervalMs + OPTS.pongTimeoutMs); // ping, miss, second ping
    expect(hb.missedPongs).toBe(1);
    vi.advanceTimersByTime(OPTS.pongTimeoutMs - 1);
    hb.work(); // the pong arrives just in time
    const pongAt = Date.now();
    expect(hb.missedPongs).toBe(0);
    // The link is healthy again: the next ping comes a full interval after the pong, and it
    // takes a full new budget of misses to go stale.
    vi.advanceTimersByTime(OPTS.intervalMs - 1);
    expect(pings).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(pings).toHaveLength(3);
    expect(pings[2]).toBe(pongAt + OPTS.intervalMs);
    vi.advanceTimersByTime(OPTS.maxMissed * OPTS.pongTimeoutMs - 1);
    expect(stale).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stale).toEqual([pongAt + OPTS.intervalMs + OPTS.maxMissed * OPTS.pongTimeoutMs]);
  });

  it("heartbeat - a link that answers every ping is never stale", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(OPTS.intervalMs);
      expect(pings).toHaveLength(i + 1);
      vi.advanceTimersByTime(OPTS.pongTimeoutMs / 2);
      hb.work();
    }
    expect(stale).toEqual([]);
    expect(hb.missedPongs).toBe(0);
    hb.stop();
  });

  it("heartbeat - stop() leaves no timer and no later ping", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    vi.advanceTimersByTime(OPTS.intervalMs); // a ping is out, its pong timer armed
    expect(vi.getTimerCount()).toBe(1);
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(hb.running).toBe(false);
    vi.advanceTimersByTime(OPTS.intervalMs * 10);
    expect(pings).toHaveLength(1);
    expect(stale).toEqual([]);
  });

  it("heartbeat - start() twice keeps a single timer and restarts the watch", () => {
    const { hb, pings } = harness();
    hb.start();
    vi.advanceTimersByTime(OPTS.intervalMs / 2);
    hb.start();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(OPTS.intervalMs / 2);
    expect(pings).toEqual([]); // the first start's schedule is gone
    vi.advanceTimersByTime(OPTS.intervalMs / 2);
    expect(pings).toEqual([t0 + (3 * OPTS.intervalMs) / 2]);
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("heartbeat - start() after going stale watches afresh with no misses carried over", () => {
    const { hb, pings, stale } = harness();
    hb.start();
    vi.advanceTimersByTime(OPTS.intervalMs + OPTS.maxMissed * OPTS.pongTimeoutMs);
    expect(stale).toHaveLength(1);
    hb.start(); // the owner reconnected
    expect(hb.missedPongs).toBe(0);
    const restartedAt = Date.now();
    vi.advanceTimersByTime(OPTS.intervalMs);
    expect(pings.at(-1)).toBe(restartedAt + OPTS.intervalMs);
    expect(hb.missedPongs).toBe(0);
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
