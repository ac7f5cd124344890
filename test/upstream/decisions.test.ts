/** The engine's rules as pure functions (src/upstream/decisions.ts) and frame packing (outbox.ts). */
import { describe, expect, it } from "vitest";
import * as d from "../../src/upstream/decisions.js";
import { pack } from "../../src/upstream/outbox.js";

const POLICY = { maxTaskRetries: 2, retryBaseMs: 100, retryMaxMs: 1_000 };
const err = (code: string) => ({ code, message: code });
const facts = (over: Partial<d.DeliveryFacts> = {}): d.DeliveryFacts => ({
  submits: 1,
  reached: false,
  written: true,
  undelivered: false,
  ...over,
});

describe("decisions - what follows an answer", () => {
  it("decisions - errors: conflict polls, not-found is its own case, transient retries while retries last, the rest fails", () => {
    expect(d.onErrors([err("conflictTaskUUID")], { retries: 0, streamedOnly: false }, POLICY, () => 0.5)).toEqual({ do: "poll" });
    expect(d.onErrors([err("taskNotFound")], { retries: 0, streamedOnly: false }, POLICY, () => 0.5)).toEqual({ do: "not-found" });
    expect(d.onErrors([err("timeoutProvider")], { retries: 0, streamedOnly: false }, POLICY, () => 0.5)).toEqual({
      do: "retry",
      delayMs: 50,
    });
    expect(d.onErrors([err("timeoutProvider")], { retries: 1, streamedOnly: false }, POLICY, () => 0.5)).toEqual({
      do: "retry",
      delayMs: 100,
    });
    expect(d.onErrors([err("timeoutProvider")], { retries: 2, streamedOnly: false }, POLICY, () => 0.5)).toEqual({ do: "fail" });
    expect(d.onErrors([err("timeoutProvider"), err("invalidModel")], { retries: 0, streamedOnly: false }, POLICY, () => 0.5)).toEqual({
      do: "fail",
    });
    expect(d.onErrors([err("somethingNew")], { retries: 0, streamedOnly: false }, POLICY, () => 0.5)).toEqual({ do: "fail" });
  });

  it("decisions - not found: stale while a resubmission is out, fail for an acked async task, in doubt for an acked sync one, else resubmit", () => {
    expect(d.onNotFound({ phase: "sent", acked: true, async: false })).toEqual({ do: "ignore" });
    expect(d.onNotFound({ phase: "polling", acked: true, async: true })).toEqual({ do: "fail" });
    expect(d.onNotFound({ phase: "polling", acked: true, async: false }).do).toBe("in-doubt");
    expect(d.onNotFound({ phase: "polling", acked: false, async: false })).toEqual({ do: "resubmit" });
  });

  it("decisions - resubmit: only 'not found' resends are capped", () => {
    expect(d.resubmit("not-found", 1, 2)).toEqual({ do: "resubmit" });
    expect(d.resubmit("not-found", 2, 2).do).toBe("in-doubt");
    expect(d.resubmit("fresh-session", 99, 2)).toEqual({ do: "resubmit" });
    expect(d.resubmit("undelivered", 99, 2)).toEqual({ do: "resubmit" });
  });

  it("decisions - a new link: nothing for unsent or current tasks, poll again, resend what never arrived, else grace or resubmit", () => {
    const link = { epoch: 3, resumed: true };
    expect(d.onReady({ phase: "queued", sentEpoch: -1, undelivered: false, streamedOnly: false }, link)).toEqual({ do: "none" });
    expect(d.onReady({ phase: "recovering", sentEpoch: 3, undelivered: false, streamedOnly: false }, link)).toEqual({ do: "none" });
    expect(d.onReady({ phase: "polling", sentEpoch: 2, undelivered: false, streamedOnly: false }, link)).toEqual({ do: "poll-now" });
    expect(d.onReady({ phase: "recovering", sentEpoch: 2, undelivered: true, streamedOnly: false }, link)).toEqual({ do: "resubmit" });
    expect(d.onReady({ phase: "recovering", sentEpoch: 2, undelivered: false, streamedOnly: false }, link)).toEqual({ do: "grace" });
    expect(d.onReady({ phase: "recovering", sentEpoch: 2, undelivered: false, streamedOnly: false }, { epoch: 3, resumed: false })).toEqual(
      { do: "resubmit" },
    );
  });

  it("decisions - a kind getResponse cannot fetch (modelUpload): waits for the resumed session's stream, is in doubt on conflictTaskUUID", () => {
    const t = { phase: "recovering" as const, sentEpoch: 2, undelivered: false, streamedOnly: true };
    expect(d.onReady(t, { epoch: 3, resumed: true })).toEqual({ do: "wait" });
    expect(d.onReady(t, { epoch: 3, resumed: false })).toEqual({ do: "resubmit" });
    expect(d.onReady({ ...t, undelivered: true }, { epoch: 3, resumed: true })).toEqual({ do: "resubmit" });
    const conflict = d.onErrors([err("conflictTaskUUID")], { retries: 0, streamedOnly: true }, POLICY, () => 0.5);
    expect(conflict.do).toBe("in-doubt");
    expect(d.onErrors([err("timeoutProvider")], { retries: 0, streamedOnly: true }, POLICY, () => 0.5)).toEqual({
      do: "retry",
      delayMs: 50,
    });
  });

  it("decisions - undelivered: a frame not written whole, or unanswered on a link closed with 1009; never once Runware answered", () => {
    const t = { phase: "sent" as const, written: true, replied: false };
    expect(d.undelivered({ ...t, written: false }, 1006)).toBe("not-written");
    expect(d.undelivered(t, d.MESSAGE_TOO_BIG)).toBe("too-big");
    expect(d.undelivered(t, 1006)).toBe(false);
    expect(d.undelivered({ ...t, replied: true }, d.MESSAGE_TOO_BIG)).toBe(false);
    expect(d.undelivered({ ...t, phase: "polling" }, d.MESSAGE_TOO_BIG)).toBe(false);
  });

  it("decisions - deadline and stop: in doubt only when a submission may have reached Runware", () => {
    expect(d.onDeadline({ ...facts(), lostContact: true }, 10).state).toBe("in-doubt");
    expect(d.onDeadline({ ...facts(), lostContact: false }, 10)).toMatchObject({ state: "failed", code: "taskTimeout" });
    expect(d.onDeadline({ ...facts({ undelivered: true }), lostContact: false }, 10).message).toMatch(/could not be delivered/);
    expect(d.onDeadline({ ...facts({ undelivered: true, reached: true }), lostContact: true }, 10).state).toBe("in-doubt");
    const sync = { taskUUID: "u-1", async: false, acked: false };
    expect(d.onStop({ ...facts(), ...sync }, "stop")).toMatchObject({ state: "in-doubt", code: "taskInDoubt" });
    expect(d.onStop({ ...facts({ submits: 0, written: false }), ...sync }, "stop")).toMatchObject({ state: "failed", code: "taskAborted" });
    expect(d.onStop({ ...facts({ undelivered: true }), ...sync }, "stop")).toMatchObject({ state: "failed", code: "taskAborted" });
  });

  it("decisions - an async task Runware accepted, given up on by the daemon: in doubt, naming the task and how to ask again", () => {
    const stop = d.onStop({ ...facts(), taskUUID: "u-2", async: true, acked: true }, "drained");
    expect(stop).toMatchObject({ state: "in-doubt", code: "taskInDoubt" });
    expect(stop.message).toMatch(/u-2 and may still finish it/);
    expect(stop.message).toContain("GET /v1/tasks/u-2?wait=1");
    const late = d.onAsyncDeadline({ taskUUID: "u-3" }, 1800000);
    expect(late).toMatchObject({ state: "in-doubt", code: "taskInDoubt" });
    expect(late.message).toMatch(/1800000 ms \(--async-timeout-ms\).*Runware accepted task u-3 and may still finish it/);
  });
});

describe("outbox - pack", () => {
  it("outbox - packs tasks in order into JSON arrays no larger than the limit; a task larger than it goes alone", () => {
    const items = ["a", "bb", "ccc", "dddddddddd", "e"].map((x) => ({ text: JSON.stringify(x) }));
    const frames = pack(items, 12);
    expect(frames.map((f) => f.text)).toEqual(['["a","bb"]', '["ccc"]', '["dddddddddd"]', '["e"]']);
    for (const f of frames) if (f.items.length > 1) expect(Buffer.byteLength(f.text)).toBeLessThanOrEqual(12);
    expect(frames.flatMap((f) => JSON.parse(f.text) as string[])).toEqual(["a", "bb", "ccc", "dddddddddd", "e"]);
    expect(pack([], 100)).toEqual([]);
  });

  it("outbox - counts UTF-8 bytes, not characters", () => {
    const items = ["ééé", "ééé"].map((x) => ({ text: JSON.stringify(x) })); // 5 characters, 8 bytes each
    expect(pack(items, 19)).toHaveLength(1); // ["ééé","ééé"]: 13 characters, 19 bytes
    expect(pack(items, 18)).toHaveLength(2);
  });
});
