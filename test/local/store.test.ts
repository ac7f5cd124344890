/**
 * The result store (src/local/store.ts, docs/local-api.md §2.4): bounded in time, count and bytes,
 * oldest evicted first; a task evicted for room reads as evicted (with when and why), distinct from
 * one never known or past its window; the evicted markers are bounded too.
 */
import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { evictedError, ResultStore, TASK_EVICTED_CODE, type StoreLimits } from "../../src/local/store.js";
import { jsonBytes, outcomeBytes } from "../../src/local/size.js";
import { systemClock, type Clock } from "../../src/util/clock.js";
import type { TaskOutcome } from "../../src/upstream/task.js";

const KiB = 1024;

/** A clock the test moves by hand (the store only reads it). */
function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    clearTimeout: (timer) => systemClock.clearTimeout(timer),
    advance: (ms) => (t += ms),
  };
}

/** A finished task with `n` results of `chars` base64-like characters each. */
function outcome(n: number, chars: number): TaskOutcome {
  const taskUUID = randomUUID();
  const data = Array.from({ length: n }, () => ({
    taskType: "imageInference",
    taskUUID,
    imageUUID: randomUUID(),
    imageBase64Data: "A".repeat(chars),
  }));
  return { taskUUID, taskType: "imageInference", state: "done", data, errors: [] };
}

function store(limits: Partial<StoreLimits>, clock = manualClock()) {
  return new ResultStore({ retentionMs: 600_000, maxEntries: 10_000, maxBytes: 1024 * KiB, maxMarkers: 100, ...limits }, clock);
}

describe("result store - bounded by bytes", () => {
  it("result store - a value's measured size is close to its JSON length, at any depth, without recursion", () => {
    const o = outcome(3, 10 * KiB);
    const exact = JSON.stringify(o.data).length;
    expect(outcomeBytes(o)).toBeGreaterThanOrEqual(exact);
    expect(outcomeBytes(o)).toBeLessThan(exact * 1.05);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(jsonBytes(deep)).toBeGreaterThan(200_000);
  });

  it("result store - past its byte budget the oldest results are evicted first, and their lookups say so", () => {
    const clock = manualClock();
    const s = store({ maxBytes: 100 * KiB }, clock);
    const tasks = Array.from({ length: 10 }, () => outcome(2, 10 * KiB)); // ~20 KiB each
    for (const t of tasks) {
      s.put(t);
      clock.advance(1_000);
    }
    expect(s.bytes).toBeLessThanOrEqual(100 * KiB);
    const kept = tasks.filter((t) => s.get(t.taskUUID) !== undefined);
    const gone = tasks.filter((t) => s.get(t.taskUUID) === undefined);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    // Oldest first: what is gone is a prefix of what came.
    expect(tasks.slice(0, gone.length)).toEqual(gone);
    for (const t of gone) expect(s.evicted(t.taskUUID)).toMatchObject({ why: "bytes", taskType: "imageInference" });
    for (const t of kept) expect(s.evicted(t.taskUUID)).toBeUndefined();
    expect(s.evicted(randomUUID())).toBeUndefined();

    const first = gone[0]!;
    const err = evictedError(first.taskUUID, s.evicted(first.taskUUID)!, s.limits);
    expect(err).toMatchObject({ code: TASK_EVICTED_CODE, taskUUID: first.taskUUID, taskType: "imageInference" });
    expect(err.message).toContain(new Date(1_700_000_000_000).toISOString()); // when it finished
    expect(err.message).toContain("resultRetentionBytes"); // why
  });

  it("result store - one task larger than the whole budget is not kept, and reads as evicted for its size", () => {
    const s = store({ maxBytes: 50 * KiB });
    const small = outcome(1, KiB);
    const big = outcome(2, 40 * KiB);
    s.put(small);
    s.put(big);
    expect(s.get(big.taskUUID)).toBeUndefined();
    expect(s.evicted(big.taskUUID)?.why).toBe("size");
    expect(s.get(small.taskUUID)).toBe(small); // not pushed out by a task that was never kept
  });

  it("result store - past its count the oldest are evicted with a marker; past the window they are simply gone", () => {
    const clock = manualClock();
    const s = store({ maxEntries: 3, retentionMs: 10_000 }, clock);
    const [a, b, c, d] = Array.from({ length: 4 }, () => outcome(1, 10));
    for (const t of [a, b, c, d]) s.put(t!);
    expect(s.evicted(a!.taskUUID)?.why).toBe("count");
    expect(s.size).toBe(3);
    clock.advance(10_001);
    expect(s.get(b!.taskUUID)).toBeUndefined();
    // Its window ran out, as documented: unknown from now on, not "evicted".
    expect(s.evicted(b!.taskUUID)).toBeUndefined();
  });

  it("result store - the evicted markers are bounded, the oldest forgotten first; a UUID stored again is no longer evicted", () => {
    const s = store({ maxEntries: 1, maxMarkers: 5 });
    const tasks = Array.from({ length: 12 }, () => outcome(1, 10));
    for (const t of tasks) s.put(t);
    const marked = tasks.filter((t) => s.evicted(t.taskUUID) !== undefined);
    // 11 were evicted, the last 5 are remembered.
    expect(marked).toEqual(tasks.slice(6, 11));
    const again = { ...tasks[8]!, data: [] };
    s.put(again);
    expect(s.evicted(again.taskUUID)).toBeUndefined();
    expect(s.get(again.taskUUID)).toBe(again);
  });
});
