/** The single-timer deadline list (src/upstream/deadlines.ts), on fake time. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DeadlineList, type DeadlineNode } from "../../src/upstream/deadlines.js";
import { systemClock } from "../../src/util/clock.js";

interface Node extends DeadlineNode {
  name: string;
}
const node = (name: string): Node => ({ name, deadlineAt: 0, dlPrev: undefined, dlNext: undefined, dlLinked: false });

afterEach(() => vi.useRealTimers());

/** Fake timers and clock; setImmediate stays real (expiries are handed over on the check phase). */
function fakeTime(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
}

/** Advance fake time, then let the expiries handed over on the check phase (setImmediate) run. */
async function advance(ms: number): Promise<void> {
  vi.advanceTimersByTime(ms);
  await new Promise((r) => setImmediate(r));
}

describe("deadlines", () => {
  it("deadlines - expire in order with one timer, and removed nodes never expire", async () => {
    fakeTime();
    const expired: string[] = [];
    const list = new DeadlineList<Node>(systemClock, (n) => expired.push(n.name));
    const [a, b, c, d] = ["a", "b", "c", "d"].map(node) as [Node, Node, Node, Node];
    const t0 = Date.now();
    list.add(a, t0 + 100);
    list.add(b, t0 + 100);
    list.add(c, t0 + 200);
    list.add(d, t0 + 300);
    expect(vi.getTimerCount()).toBe(1);
    list.remove(c);
    expect(list.size).toBe(3);
    await advance(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired, "handed over after the I/O of the turn the timer fired in, not inside it").toEqual([]);
    await advance(0);
    expect(expired).toEqual(["a", "b"]);
    await advance(200);
    expect(expired).toEqual(["a", "b", "d"]);
    expect(list.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("deadlines - removing the head re-arms for the next; emptying the list leaves no timer", async () => {
    fakeTime();
    const expired: string[] = [];
    const list = new DeadlineList<Node>(systemClock, (n) => expired.push(n.name));
    const a = node("a");
    const b = node("b");
    list.add(a, Date.now() + 50);
    list.add(b, Date.now() + 80);
    list.remove(a);
    await advance(60);
    expect(expired).toEqual([]);
    await advance(20);
    expect(expired).toEqual(["b"]);
    list.add(a, Date.now() + 10);
    list.remove(a);
    list.remove(a); // twice: harmless
    expect(vi.getTimerCount()).toBe(0);
  });
});
