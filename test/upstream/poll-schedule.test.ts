/** The poll schedule (src/upstream/poll-schedule.ts): delays, jitter, one timer, coalesced polls; on fake time. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { firstDelay, jittered, nextDelay, PollSchedule, POLL_JITTER, type PollNode } from "../../src/upstream/poll-schedule.js";
import { firstPollMs, runsAsync } from "../../src/protocol/task-kinds.js";
import { systemClock } from "../../src/util/clock.js";

interface Node extends PollNode {
  name: string;
}
const node = (name: string): Node => ({ name, pollGen: 0, pollScheduled: false });
const POLICY = { pollInitialMs: 1_000, pollFactor: 1.5, pollMaxMs: 5_000 };

afterEach(() => vi.useRealTimers());

describe("poll schedule - delays", () => {
  it("poll schedule - starts at the kind's delay within the cap, grows x1.5 to the 5 s cap, jitter only shortens (at most 20 %)", () => {
    expect(firstDelay(firstPollMs("videoInference", 1_000), POLICY)).toBe(5_000);
    expect(firstDelay(firstPollMs("audioInference", 1_000), POLICY)).toBe(2_000);
    expect(firstDelay(firstPollMs("imageInference", 1_000), POLICY)).toBe(1_000);
    expect(firstDelay(firstPollMs("training", 1_000), POLICY)).toBe(5_000); // 10 s, capped
    const seq = [1_000];
    for (let i = 0; i < 6; i++) seq.push(nextDelay(seq.at(-1) as number, POLICY));
    expect(seq).toEqual([1_000, 1_500, 2_250, 3_375, 5_000, 5_000, 5_000]);
    expect(jittered(5_000, () => 0)).toBe(5_000);
    expect(jittered(5_000, () => 0.999999)).toBe(Math.round(5_000 * (1 - POLL_JITTER * 0.999999)));
    expect(jittered(5_000, () => 0.5)).toBe(4_500);
  });

  it("poll schedule - a minute-long render at the defaults costs at most one poll per 2 s (the bench target), even pulled forward by coalescing", () => {
    // Worst case: every delay shortened fully by jitter, then pulled forward by a quarter of the cap.
    let t = 0;
    let polls = 0;
    let nominal = firstDelay(firstPollMs("videoInference", POLICY.pollInitialMs), POLICY);
    while (t < 60_000) {
      t += Math.max(0, jittered(nominal, () => 1) - POLICY.pollMaxMs / 4);
      nominal = nextDelay(nominal, POLICY);
      polls++;
    }
    expect(polls).toBeLessThanOrEqual(30);
  });
});

describe("poll schedule - task kinds", () => {
  it("task kinds - video, audio, 3D and training run async; caption, upscale and removeBackground only on a video input; images never", () => {
    expect(runsAsync({ taskType: "videoInference" })).toBe(true);
    expect(runsAsync({ taskType: "audioInference" })).toBe(true);
    expect(runsAsync({ taskType: "3dInference" })).toBe(true);
    expect(runsAsync({ taskType: "training" })).toBe(true);
    expect(runsAsync({ taskType: "imageInference" })).toBe(false);
    expect(runsAsync({ taskType: "upscale", inputs: { image: "x" } })).toBe(false);
    expect(runsAsync({ taskType: "upscale", inputs: { video: "https://x/v.mp4" } })).toBe(true);
    expect(runsAsync({ taskType: "toString" })).toBe(false);
  });
});

describe("poll schedule - one timer", () => {
  it("poll schedule - one timer for every task; the due ones and those due within the window are handed over together", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const batches: string[][] = [];
    const s = new PollSchedule<Node>(systemClock, 250, (due) => batches.push(due.map((n) => n.name)));
    const [a, b, c, d] = ["a", "b", "c", "d"].map(node) as [Node, Node, Node, Node];
    s.schedule(a, 1_000);
    s.schedule(b, 1_200); // within 250 ms of a: polled with it
    s.schedule(c, 1_300); // not
    s.schedule(d, 5_000);
    expect(vi.getTimerCount()).toBe(1);
    expect(s.size).toBe(4);
    vi.advanceTimersByTime(999);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([["a", "b"]]);
    expect(a.pollScheduled).toBe(false);
    vi.advanceTimersByTime(300);
    expect(batches).toEqual([["a", "b"], ["c"]]);
    expect(vi.getTimerCount()).toBe(1);
    s.remove(d);
    expect(s.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // nothing scheduled: no timer
    vi.advanceTimersByTime(10_000);
    expect(batches).toHaveLength(2);
  });

  it("poll schedule - rescheduling moves a task (the old time is dropped), removal drops it, stop clears everything", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const batches: string[][] = [];
    const s = new PollSchedule<Node>(systemClock, 0, (due) => batches.push(due.map((n) => n.name)));
    const [a, b] = ["a", "b"].map(node) as [Node, Node];
    s.schedule(a, 100);
    s.schedule(b, 200);
    s.schedule(a, 300); // moved later
    vi.advanceTimersByTime(250);
    expect(batches).toEqual([["b"]]);
    s.schedule(b, 10); // earlier than the armed timer: re-armed
    vi.advanceTimersByTime(10);
    expect(batches).toEqual([["b"], ["b"]]);
    vi.advanceTimersByTime(40);
    expect(batches).toEqual([["b"], ["b"], ["a"]]);
    s.schedule(a, 100);
    s.stop();
    expect(a.pollScheduled).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(batches).toHaveLength(3);
  });
});
