/**
 * Slowing down token guessing on the TCP listener (issue 17): a few failures cost nothing; in a
 * burst every later failure's answer waits for a slot, spaced further apart, at most MAX_WAIT_MS,
 * until the window has passed; the right token never waits. The gate lets go of a waiting attempt when the daemon stops.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.js";
import { AuthThrottle, FREE_FAILURES, MAX_WAIT_MS, WINDOW_MS } from "../../src/local/auth-throttle.js";
import { TcpGate } from "../../src/local/tcp-gate.js";

describe("auth throttle", () => {
  it("throttle - the first failures are free; past them, attempts are spaced, more the more failures, until the window passes", () => {
    const t = new AuthThrottle();
    const now = 1_000_000;
    for (let i = 0; i < FREE_FAILURES; i++) t.failed(now);
    expect(t.delay(now)).toBe(0);
    for (let i = 0; i < 4; i++) t.failed(now);
    // Nine recent failures: attempts are 200 ms apart, the first at once.
    expect([t.delay(now), t.delay(now), t.delay(now)]).toEqual([0, 200, 400]);
    for (let i = 0; i < 100; i++) t.failed(now);
    expect(t.delay(now) - 600).toBeLessThanOrEqual(1_000); // spacing capped at a second
    expect(t.total).toBe(FREE_FAILURES + 104);
    expect(t.recent(now + WINDOW_MS)).toBe(0);
    expect(t.delay(now + WINDOW_MS + 10_000)).toBe(0);
  });

  it("throttle - no answer waits longer than MAX_WAIT_MS, however many attempts came before", () => {
    const t = new AuthThrottle();
    const now = 2_000_000;
    for (let i = 0; i < 200; i++) t.failed(now);
    const waits = Array.from({ length: 50 }, () => t.delay(now));
    expect(Math.max(...waits)).toBe(MAX_WAIT_MS);
  });

  it("gate - the right token passes at once even in a burst; a wrong one waits for its slot, and close() lets it go", async () => {
    const clock = 5_000_000; // still: the window never passes
    const gate = new TcpGate("the-right-token-0123456789", silentLogger, () => clock);
    for (let i = 0; i <= FREE_FAILURES; i++) expect(await gate.verify(`guess-${i}`, "http")).toBe(false);
    expect(gate.failures).toBe(FREE_FAILURES + 1);
    const waiting = gate.verify("another-guess", "websocket"); // in the burst: its answer waits
    expect(await gate.verify("the-right-token-0123456789", "http")).toBe(true);
    gate.close();
    expect(await waiting).toBe(false);
    expect(gate.failures).toBe(FREE_FAILURES + 2);
  });
});
