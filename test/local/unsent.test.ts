/**
 * The local clients' byte budget (src/local/unsent.ts): a client past its own budget is cut (judged
 * once a turn, so one frame's items all go), one item larger than it still goes to a client that has
 * read everything, and when all together would pass the total the one holding most is cut first;
 * one already cut is cut again, at once, only when those cut hold more than the total.
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

/** The next event-loop turn: the per-client budget is judged on a client's first write of a turn. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("unsent budget - per client", () => {
  it("unsent budget - a write that would take a client past its own budget is refused and the client cut", async () => {
    const b = new UnsentBudget(100, 1_000);
    const c = new Client(60);
    b.add(c);
    expect(b.admit(c, 40)).toBe(true);
    expect(c.cuts).toEqual([]);
    await nextTurn();
    expect(b.admit(c, 41)).toBe(false);
    expect(c.cuts).toHaveLength(1);
    expect(c.cuts[0]).toMatch(/^60 bytes unread, over the 100-byte budget/);
  });

  it("unsent budget - the items of one turn (one upstream frame) all go; the next turn judges what is still unread", async () => {
    const b = new UnsentBudget(100, 1_000);
    const c = new Client(0);
    b.add(c);
    for (let i = 0; i < 5; i++) {
      expect(b.admit(c, 60)).toBe(true);
      c.held += 60;
    }
    expect(c.cuts).toEqual([]);
    await nextTurn();
    c.held = 0; // it read them all
    expect(b.admit(c, 60)).toBe(true);
    await nextTurn();
    c.held = 300; // it did not
    expect(b.admit(c, 60)).toBe(false);
    expect(c.cuts).toHaveLength(1);
  });

  it("unsent budget - one item larger than the budget still goes to a client with nothing waiting", async () => {
    const b = new UnsentBudget(100, 1_000);
    const c = new Client(0);
    b.add(c);
    expect(b.admit(c, 500)).toBe(true);
    c.held = 500;
    await nextTurn();
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
  it("unsent budget - past the total the client holding most is cut first, one per write, and its reason names the total", () => {
    const b = new UnsentBudget(1_000, 1_000);
    const small = new Client(100);
    const big = new Client(500);
    const writer = new Client(250);
    for (const c of [small, big, writer]) b.add(c);
    // 100 + 500 + 250 + 200 > 1,000: the biggest (500, the writer would hold 450) is cut; the writer's item goes.
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

  it("unsent budget - a client with nothing waiting still gets its item, however full the others are", () => {
    const b = new UnsentBudget(1_000, 1_000);
    const stuck = new Client(1_200);
    const idle = new Client(0);
    b.add(stuck);
    b.add(idle);
    expect(b.admit(idle, 300)).toBe(true);
    expect(idle.cuts).toEqual([]);
    expect(stuck.cuts).toHaveLength(1); // the one holding most
  });

  it("unsent budget - a cut client keeps its bytes, and its close, until those already cut hold more than the total", () => {
    const b = new UnsentBudget(1_000, 1_000);
    const a = new Client(600);
    const c = new Client(300);
    const writer = new Client(150);
    const forgetA = b.add(a);
    b.add(c);
    b.add(writer);
    expect(b.admit(writer, 100)).toBe(true); // 1,150: a is cut (once)
    expect(a.cuts).toHaveLength(1);
    expect(b.admit(writer, 100)).toBe(true); // still over: the largest still open, c, is cut; a keeps its bytes
    expect(c.cuts).toHaveLength(1);
    expect(a.cuts).toHaveLength(1);
    a.held = 800; // a cut client does not grow, but say it held more: 800 + 300 > 1,000 already cut
    expect(b.admit(writer, 100)).toBe(true);
    expect(a.cuts).toHaveLength(2); // cut again: it must let go at once
    forgetA();
    expect(b.size).toBe(2);
  });
});
