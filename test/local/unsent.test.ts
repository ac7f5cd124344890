/**
 * The local clients' byte budget (src/local/unsent.ts): a client past its own budget is cut, one
 * item larger than it still goes to a client that has read everything, and when all together would
 * pass the total the one holding most is cut first, a second time at once.
 */
import { describe, expect, it } from "vitest";
import { UnsentBudget, type LocalClient } from "../../src/local/unsent.js";

/** A client whose unsent bytes the test sets; `cuts` records each cut's reason. */
class Client implements LocalClient {
  readonly cuts: string[] = [];
  constructor(public held = 0) {}
  unsent(): number {
    return this.held;
  }
  cut(reason: string): void {
    this.cuts.push(reason);
  }
}

describe("unsent budget - per client", () => {
  it("unsent budget - a write that would take a client past its own budget is refused and the client cut", () => {
    const b = new UnsentBudget(100, 1_000);
    const c = new Client(60);
    b.add(c);
    expect(b.admit(c, 40)).toBe(true);
    expect(c.cuts).toEqual([]);
    expect(b.admit(c, 41)).toBe(false);
    expect(c.cuts).toHaveLength(1);
    expect(c.cuts[0]).toMatch(/^60 bytes unread, over the 100-byte budget/);
  });

  it("unsent budget - one item larger than the budget still goes to a client with nothing waiting", () => {
    const b = new UnsentBudget(100, 1_000);
    const c = new Client(0);
    b.add(c);
    expect(b.admit(c, 500)).toBe(true);
    c.held = 500;
    expect(b.admit(c, 1)).toBe(false);
  });

  it("unsent budget - answers held for JSON callers are not bound by the per-client budget", () => {
    const b = new UnsentBudget(100, 1_000);
    const c = new Client(90);
    b.add(c);
    expect(b.admit(c, 500, false)).toBe(true);
    expect(c.cuts).toEqual([]);
  });
});

describe("unsent budget - all clients together", () => {
  it("unsent budget - past the total the client holding most is cut first, and only as many as needed", () => {
    const b = new UnsentBudget(1_000, 1_000);
    const small = new Client(100);
    const big = new Client(500);
    const writer = new Client(300);
    for (const c of [small, big, writer]) b.add(c);
    // 100 + 500 + 300 + 200 > 1,000: cutting the biggest (500) is enough.
    expect(b.admit(writer, 200)).toBe(true);
    expect(big.cuts).toHaveLength(1);
    expect(big.cuts[0]).toMatch(/over the daemon's 1000-byte total; this one held most \(500\)/);
    expect(small.cuts).toEqual([]);
    expect(writer.cuts).toEqual([]);
  });

  it("unsent budget - the writer itself is refused when it holds most", () => {
    const b = new UnsentBudget(1_000, 1_000);
    const other = new Client(200);
    const writer = new Client(700);
    b.add(other);
    b.add(writer);
    expect(b.admit(writer, 200)).toBe(false);
    expect(writer.cuts).toHaveLength(1);
    expect(other.cuts).toEqual([]);
  });

  it("unsent budget - a cut client still counts until it is gone, and is cut again (let go at once) if it must", () => {
    const b = new UnsentBudget(1_000, 1_000);
    const slow = new Client(800);
    const other = new Client(100);
    const forgetSlow = b.add(slow);
    b.add(other);
    expect(b.admit(other, 200)).toBe(true);
    expect(slow.cuts).toHaveLength(1);
    // Its bytes are still there (its close is queued behind them): the next write cuts it again.
    expect(b.admit(other, 150)).toBe(true);
    expect(slow.cuts).toHaveLength(2);
    forgetSlow();
    expect(b.size).toBe(1);
    expect(b.admit(other, 500)).toBe(true);
    expect(slow.cuts).toHaveLength(2);
  });
});
