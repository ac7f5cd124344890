/**
 * The ledger's pure parts (issue 16): spend windows and when a budget's window frees up, the
 * budget's refusals and its one warning per crossing, the history query, entries built from
 * outcomes (shortened media, why a cost is missing), and the memory store's byte budget.
 */
import { describe, expect, it } from "vitest";
import { EventEmitter } from "eventemitter3";
import { silentLogger } from "../../src/log.js";
import { Ledger } from "../../src/local/ledger/ledger.js";
import type { UpstreamEngine } from "../../src/upstream/engine.js";
import { Budget } from "../../src/local/ledger/budget.js";
import { entryOf, KEPT_STRING_CHARS } from "../../src/local/ledger/entry.js";
import { InvalidHistoryQueryError, parseHistoryQuery } from "../../src/local/ledger/query.js";
import { MAX_LABELS_SHOWN, OTHER_LABELS, Spend } from "../../src/local/ledger/spend.js";
import { MemoryLedgerStore } from "../../src/local/ledger/store.js";
import type { TaskOutcome } from "../../src/upstream/task.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function outcome(o: Partial<TaskOutcome> = {}): TaskOutcome {
  return { taskUUID: "u1", taskType: "imageInference", state: "done", data: [], errors: [], label: "me", ...o };
}

describe("ledger - spend", () => {
  it("spend - a window sums what finished in it, by label, and counts tasks without a cost apart", () => {
    const s = new Spend();
    s.add({ at: T0, label: "a", cost: 0.5 });
    s.add({ at: T0 + 10 * MIN, label: "b", cost: 0.25 });
    s.add({ at: T0 + 20 * MIN, label: "b", cost: undefined, uncosted: "webhook" });
    s.add({ at: T0 + 3 * HOUR, label: "a", cost: 1 });
    const now = T0 + 3 * HOUR + MIN;
    expect(s.window(now, HOUR)).toEqual({ usd: 1, tasks: 1, uncosted: {}, byLabel: { a: { usd: 1, tasks: 1 } } });
    expect(s.window(now, 24 * HOUR)).toEqual({
      usd: 1.75,
      tasks: 3,
      uncosted: { webhook: 1 },
      byLabel: { a: { usd: 1.5, tasks: 2 }, b: { usd: 0.25, tasks: 1 } },
    });
    // Past 48 hours the minute buckets are gone; hour buckets still hold it for the 30-day window.
    expect(s.window(T0 + 50 * HOUR, 24 * HOUR).usd).toBe(0);
    expect(s.window(T0 + 50 * HOUR, 30 * 24 * HOUR).usd).toBe(1.75);
  });

  it("spend - freesAt is when enough of the oldest spend has left the window to go below the cap", () => {
    const s = new Spend();
    s.add({ at: T0, label: "a", cost: 2 });
    s.add({ at: T0 + 30 * MIN, label: "a", cost: 2 });
    const now = T0 + 40 * MIN;
    expect(s.freesAt(now, HOUR, 5)).toBe(now); // below the cap already
    expect(s.freesAt(now, HOUR, 3)).toBe(T0 + MIN + HOUR); // the first 2 leaves with its minute bucket
    expect(s.freesAt(now, HOUR, 1)).toBe(T0 + 31 * MIN + HOUR); // both must leave
  });

  it("spend - a window names the labels that spent most, the rest summed apart", () => {
    const s = new Spend();
    for (let i = 0; i < MAX_LABELS_SHOWN + 5; i++) s.add({ at: T0, label: `l${i}`, cost: i + 1 });
    const w = s.window(T0 + MIN, HOUR);
    expect(Object.keys(w.byLabel)).toHaveLength(MAX_LABELS_SHOWN + 1);
    expect(w.byLabel[OTHER_LABELS]).toEqual({ usd: 1 + 2 + 3 + 4 + 5, tasks: 5 }); // the five that spent least
    expect(w.byLabel[`l${MAX_LABELS_SHOWN + 4}`]).toEqual({ usd: MAX_LABELS_SHOWN + 5, tasks: 1 });
    expect(w.tasks).toBe(MAX_LABELS_SHOWN + 5);
  });

  it("spend - freesAt agrees with the rounded sum the budget refuses on (0.7 + 0.1 reaches 0.8)", () => {
    const s = new Spend();
    s.add({ at: T0, label: "a", cost: 0.7 });
    s.add({ at: T0 + MIN, label: "a", cost: 0.1 });
    expect(s.window(T0 + 2 * MIN, HOUR).usd).toBe(0.8);
    expect(s.freesAt(T0 + 2 * MIN, HOUR, 0.8)).toBe(T0 + MIN + HOUR);
  });
});

describe("ledger - a task asked about again", () => {
  it("ledger - a task that ended in doubt and is asked about again has one entry, and its spend is counted once", () => {
    const engine = new EventEmitter();
    const ledger = new Ledger(
      engine as unknown as UpstreamEngine,
      { budgetUsd: 1, budgetWindowMs: HOUR, historyRetentionMs: 31 * 24 * HOUR, historyMemoryBytes: 1 << 20 },
      silentLogger,
      () => T0,
    );
    const item = (seed: number) => ({ taskType: "videoInference", taskUUID: "v1", videoURL: `https://x/${seed}.mp4`, seed, cost: 0.4 });
    engine.emit("accepted", {
      taskUUID: "v1",
      taskType: "videoInference",
      text: JSON.stringify({ taskType: "videoInference", taskUUID: "v1", model: "m" }),
      label: "me",
      passthrough: false,
    });
    engine.emit("settled", outcome({ taskUUID: "v1", taskType: "videoInference", state: "in-doubt", data: [item(1)], askAgain: true }));
    expect(ledger.status().lastHour).toMatchObject({ usd: 0.4, tasks: 1 });
    // Reopened: the engine starts from the results it had, and ends with both (no "accepted" again).
    engine.emit("settled", outcome({ taskUUID: "v1", taskType: "videoInference", state: "done", data: [item(1), item(2)] }));
    expect(ledger.status().lastHour).toEqual({ usd: 0.8, tasks: 1, uncosted: {}, byLabel: { me: { usd: 0.8, tasks: 1 } } });
    const page = ledger.page({ limit: 10 });
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({ state: "done", cost: 0.8, model: "m", outputs: ["https://x/1.mp4", "https://x/2.mp4"] });
    expect(ledger.admissionError([{ taskType: "videoInference" }])).toBeUndefined(); // 0.8 of 1
    ledger.close();
  });
});

describe("ledger - budget", () => {
  it("budget - refuses paid task types once spend reached the cap, free ones never; warns once per crossing of 80 %", () => {
    const s = new Spend();
    const b = new Budget({ usd: 1, windowMs: HOUR }, s);
    b.added(T0);
    expect(b.check(["imageInference"], T0)).toBeUndefined();
    s.add({ at: T0, label: "a", cost: 0.7 });
    expect(b.added(T0)).toBeUndefined(); // 70 %: no warning yet
    s.add({ at: T0 + MIN, label: "a", cost: 0.15 });
    expect(b.added(T0 + MIN)).toBeCloseTo(0.85, 10); // crossed 80 %
    expect(b.check(["imageInference"], T0 + MIN)).toBeUndefined(); // below the cap: still runs
    s.add({ at: T0 + 2 * MIN, label: "a", cost: 0.15 });
    expect(b.added(T0 + 2 * MIN)).toBeUndefined(); // warned once already
    const refused = b.check(["modelSearch", "imageInference"], T0 + 2 * MIN);
    expect(refused?.code).toBe("budgetExceeded");
    expect(refused?.message).toContain("$1 of $1 in the last 1h");
    expect(refused?.message).toContain(new Date(T0 + MIN + HOUR).toISOString());
    expect(b.check(["modelSearch", "getResponse"], T0 + 2 * MIN)).toBeUndefined();
    // Once the window has moved past the spend, paid tasks run again.
    expect(b.check(["imageInference"], T0 + 3 * HOUR)).toBeUndefined();
    expect(b.status(T0 + 3 * HOUR)).toMatchObject({ usd: 1, window: "1h", spentUsd: 0, refusing: false });
  });
});

describe("ledger - history query", () => {
  const q = (s: string) => parseHistoryQuery(new URLSearchParams(s), T0);

  it("query - durations ago and ISO times, filters, limit and cursor", () => {
    expect(q("")).toEqual({ limit: 50 });
    expect(q("since=24h&until=2026-12-01T11:00:00Z&label=nightly&taskType=imageInference&limit=10&cursor=42")).toEqual({
      since: T0 - 24 * HOUR,
      until: T0 - HOUR,
      label: "nightly",
      taskType: "imageInference",
      limit: 10,
      beforeId: 42,
    });
    expect(q("since=90m").since).toBe(T0 - 90 * MIN);
    expect(q("since=2026-11-30").since).toBe(Date.UTC(2026, 10, 30));
  });

  it("query - a bad value names its parameter", () => {
    for (const [text, parameter] of [
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=2.5", "limit"],
      ["since=5", "since"],
      ["until=tomorrow", "until"],
      ["cursor=-3", "cursor"],
      ["label=a&label=b", "label"],
      ["page=2", "page"],
    ] as const) {
      let err: unknown;
      try {
        q(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(InvalidHistoryQueryError);
      expect((err as InvalidHistoryQueryError).parameter, text).toBe(parameter);
    }
  });
});

describe("ledger - entries", () => {
  it("entry - model, prompt, seed and outputs from the task and its results; base64 and long strings shortened", () => {
    const text = JSON.stringify({
      taskType: "imageInference",
      taskUUID: "u1",
      model: "runware:101@1",
      positivePrompt: "a fox",
      seedImage: `data:image/png;base64,${"A".repeat(100)}`,
      includeCost: true,
    });
    const e = entryOf({
      id: 7,
      text,
      acceptedAt: T0,
      finishedAt: T0 + 1500,
      outcome: outcome({
        costHidden: true,
        data: [
          { taskType: "imageInference", taskUUID: "u1", imageURL: "https://x/1.png", seed: 9, cost: 0.001 },
          { taskType: "imageInference", taskUUID: "u1", imageBase64Data: "B".repeat(KEPT_STRING_CHARS + 1), seed: 10, cost: 0.002 },
        ],
      }),
    });
    expect(e).toMatchObject({
      id: 7,
      label: "me",
      model: "runware:101@1",
      prompt: "a fox",
      seed: 9,
      outputs: ["https://x/1.png"],
      cost: 0.003,
      durationMs: 1500,
    });
    expect(e.uncosted).toBeUndefined();
    // The task as the caller sent it: no taskUUID to collide with, no includeCost it did not ask for.
    expect(e.input).toEqual({
      taskType: "imageInference",
      model: "runware:101@1",
      positivePrompt: "a fox",
      seedImage: "[omitted: 122 characters]",
    });
    expect(e.data[1]?.["imageBase64Data"]).toBe(`[omitted: ${KEPT_STRING_CHARS + 1} characters]`);
    expect(e.acceptedAt).toBe("2026-12-01T12:00:00.000Z");
  });

  it("entry - why a paid task has no cost: webhook, in doubt, failed, unreported; free task types have none", () => {
    const hooked = JSON.stringify({ taskType: "imageInference", webhookURL: "https://hook" });
    const at = { id: 1, acceptedAt: T0, finishedAt: T0 };
    expect(entryOf({ ...at, text: hooked, outcome: outcome() }).uncosted).toBe("webhook");
    expect(entryOf({ ...at, text: undefined, outcome: outcome({ state: "in-doubt" }) }).uncosted).toBe("in-doubt");
    expect(entryOf({ ...at, text: undefined, outcome: outcome({ state: "failed" }) }).uncosted).toBe("failed");
    expect(entryOf({ ...at, text: undefined, outcome: outcome() }).uncosted).toBe("unreported");
    expect(entryOf({ ...at, text: undefined, outcome: outcome({ taskType: "modelSearch" }) }).uncosted).toBeUndefined();
  });
});

describe("ledger - memory store", () => {
  it("store - holds entries within its byte budget, oldest dropped first, newest first in pages", () => {
    const one = (id: number) =>
      entryOf({ id, text: undefined, acceptedAt: T0, finishedAt: T0 + id, outcome: outcome({ taskUUID: `u${id}` }) });
    const size = JSON.stringify(one(1)).length;
    const store = new MemoryLedgerStore(size * 3 + 10);
    for (let id = 1; id <= 5; id++) store.append(one(id), JSON.stringify(one(id)), T0 + id);
    expect(store.page({ limit: 10 }).map((e) => e.id)).toEqual([5, 4, 3]);
    expect(store.page({ limit: 10, beforeId: 5 }).map((e) => e.id)).toEqual([4, 3]);
    expect(store.find("u1")).toBeUndefined();
    expect(store.find("u4")?.id).toBe(4);
    expect(store.nextId()).toBe(6);
    store.prune(T0 + 5);
    expect(store.page({ limit: 10 }).map((e) => e.id)).toEqual([5]);
  });
});
