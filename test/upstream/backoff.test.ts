import { describe, it, expect } from "vitest";
import { Backoff, backoffDelay, type BackoffPolicy } from "../../src/upstream/backoff.js";
import { defaultSettings } from "../../src/local/config.js";

/** The shipped policy, so a change of defaults shows up here as a reviewed test change. */
const DEFAULTS = defaultSettings();
const POLICY: BackoffPolicy = {
  baseMs: DEFAULTS.backoffBaseMs,
  maxMs: DEFAULTS.backoffMaxMs,
  floorMs: DEFAULTS.backoffFloorMs,
  factor: DEFAULTS.backoffFactor,
};

/** Math.random never returns 1; this is the largest double below it. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;
const fixed = (r: number) => () => r;

describe("backoff - backoffDelay (full jitter, cap, floor)", () => {
  it("backoff - a random of 0 waits exactly the floor, never 0 ms", () => {
    for (const attempt of [0, 1, 5, 40]) expect(backoffDelay(attempt, POLICY, fixed(0))).toBe(POLICY.floorMs);
  });

  it("backoff - a random of 0.5 waits half the ceiling, and the ceiling doubles per attempt", () => {
    // ceiling = base * factor^attempt = 500, 1000, 2000, 4000 ms
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, POLICY, fixed(0.5)))).toEqual([250, 500, 1000, 2000]);
  });

  it("backoff - a random just below 1 waits just below the ceiling (floor of the product)", () => {
    expect([0, 1, 2].map((a) => backoffDelay(a, POLICY, fixed(ALMOST_ONE)))).toEqual([499, 999, 1999]);
  });

  it("backoff - the ceiling stops at maxMs however many attempts failed", () => {
    // 500 * 2^6 = 32 000 > 30 000: capped from attempt 6 on, and still finite at absurd counts.
    for (const attempt of [6, 10, 100, 5_000]) {
      expect(backoffDelay(attempt, POLICY, fixed(0.5))).toBe(15_000);
      expect(backoffDelay(attempt, POLICY, fixed(ALMOST_ONE))).toBe(29_999);
    }
    expect(backoffDelay(5, POLICY, fixed(ALMOST_ONE))).toBe(15_999); // 16 000 is still under the cap
  });

  it("backoff - the floor wins over a small jittered value", () => {
    // 0.1 * 500 = 50 ms would hammer a flapping server; the floor is 100 ms.
    expect(backoffDelay(0, POLICY, fixed(0.1))).toBe(100);
    expect(backoffDelay(0, POLICY, fixed(0.3))).toBe(150);
  });

  it("backoff - uses the policy it is given (factor, base, cap, floor)", () => {
    const p: BackoffPolicy = { baseMs: 10, maxMs: 100, floorMs: 3, factor: 3 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, p, fixed(0.5)))).toEqual([5, 15, 45, 50]);
    expect(backoffDelay(0, p, fixed(0))).toBe(3);
  });

  it("backoff - a negative attempt is treated as the first one", () => {
    expect(backoffDelay(-3, POLICY, fixed(0.5))).toBe(250);
  });

  it("backoff - with the real Math.random every delay stays within [floor, ceiling)", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(POLICY.maxMs, POLICY.baseMs * POLICY.factor ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, POLICY);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(POLICY.floorMs);
        expect(d).toBeLessThan(ceiling);
      }
    }
  });
});

describe("backoff - Backoff attempt counter and minUptime reset", () => {
  const MIN_UPTIME = 5_000;

  function make() {
    let t = 1_000_000;
    const clock = {
      now: () => t,
      advance(ms: number) {
        t += ms;
      },
    };
    const b = new Backoff({ ...POLICY, minUptimeMs: MIN_UPTIME }, fixed(0.5), clock.now);
    return { b, clock };
  }

  it("backoff - each next() grows the delay and counts an attempt", () => {
    const { b } = make();
    expect(b.attempts).toBe(0);
    expect([b.next(), b.next(), b.next()]).toEqual([250, 500, 1000]);
    expect(b.attempts).toBe(3);
  });

  it("backoff - a link that stayed up minUptimeMs forgives past failures", () => {
    const { b, clock } = make();
    b.next();
    b.next();
    b.next();
    b.up();
    clock.advance(MIN_UPTIME);
    b.down();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(250);
  });

  it("backoff - a server that accepts and drops us at once keeps backing off", () => {
    const { b, clock } = make();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(b.next());
      b.up();
      clock.advance(MIN_UPTIME - 1); // one ms short of stable
      b.down();
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
    expect(b.attempts).toBe(4);
  });

  it("backoff - down() without a preceding up() does not reset the counter", () => {
    const { b, clock } = make();
    b.next();
    b.next();
    clock.advance(MIN_UPTIME * 10);
    b.down();
    expect(b.attempts).toBe(2);
  });

  it("backoff - the uptime is measured from the latest up(), and consumed by down()", () => {
    const { b, clock } = make();
    b.next();
    b.up();
    clock.advance(MIN_UPTIME - 1);
    b.down(); // short: no reset
    clock.advance(MIN_UPTIME); // time spent down does not count as uptime
    b.down();
    expect(b.attempts).toBe(1);
    b.up();
    clock.advance(MIN_UPTIME);
    b.down();
    expect(b.attempts).toBe(0);
  });
});
