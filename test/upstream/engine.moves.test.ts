/**
 * Every legal task move, reached through the engine itself over a link driven by hand (no socket):
 * each scenario says what Runware answers and when the link drops, and checks the moves the task
 * made and what its caller got. The last test checks that together they reached every move of
 * the table (test/helpers/legal-moves.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { UpstreamEngine, type EngineOptions } from "../../src/upstream/engine.js";
import type { TaskEvent } from "../../src/upstream/task.js";
import { TrackingClock } from "../../src/util/clock.js";
import { FAST, imageTask, until } from "../helpers/engine.js";
import { FakeLink } from "../helpers/fake-link.js";
import { LEGAL_MOVES } from "../helpers/legal-moves.js";

/** Every move any scenario made, for the coverage check at the end. */
const reached = new Set<string>();

interface Rig {
  link: FakeLink;
  engine: UpstreamEngine;
  clock: TrackingClock;
  /** The moves of one task, in order, as "from>to". */
  movesOf: (uuid: string) => string[];
}

let rig: Rig | undefined;

function setup(over: Partial<EngineOptions> = {}): Rig {
  const link = new FakeLink();
  const clock = new TrackingClock();
  const engine = new UpstreamEngine({ ...FAST, url: "ws://unused", apiKey: "k", clock, random: () => 0.5, ...over }, link);
  const moves = new Map<string, string[]>();
  engine.on("move", (uuid, from, to) => {
    const m = `${from}>${to}`;
    reached.add(m);
    moves.set(uuid, [...(moves.get(uuid) ?? []), m]);
  });
  engine.start();
  rig = { link, engine, clock, movesOf: (uuid) => moves.get(uuid) ?? [] };
  return rig;
}

/** Every scenario ends with the leak check: no timer left running, no slot left taken. */
async function closeAndCheck(r: Rig): Promise<void> {
  await r.engine.close("test over");
  expect(r.clock.pending, "timers left running").toBe(0);
  expect(r.engine.stats().tasks.inFlight, "slots left taken").toBe(0);
}

afterEach(async () => {
  const r = rig;
  rig = undefined;
  if (r) await closeAndCheck(r);
});

function image(uuid = randomUUID(), extra: Record<string, unknown> = {}) {
  return imageTask({ taskUUID: uuid, ...extra }) as ReturnType<typeof imageTask> & { taskUUID: string };
}

function result(uuid: string, extra: Record<string, unknown> = {}) {
  return { data: [{ taskType: "imageInference", taskUUID: uuid, imageUUID: randomUUID(), imageURL: "http://x/i.png", ...extra }] };
}

function error(uuid: string, code: string, extra: Record<string, unknown> = {}) {
  return { errors: [{ code, message: `${code} from the test`, taskUUID: uuid, ...extra }] };
}

/**
 * One slot; task a hit a transient error and waits in the queue again, while b holds the slot
 * a gave back.
 */
async function retriedBehindAnother() {
  const r = setup({ maxInFlight: 1, retryBaseMs: 4, retryMaxMs: 4 });
  r.link.up();
  const a = randomUUID();
  const b = randomUUID();
  const ha = r.engine.submit(image(a));
  await sent(r.link, a);
  const hb = r.engine.submit(image(b));
  r.link.reply(error(a, "timeoutProvider"));
  await sent(r.link, b); // b takes the slot a gave back
  await until(() => r.movesOf(a).includes("retry-wait>queued"), 2_000, "a back in the queue");
  return { ...r, a, b, ha, hb };
}

async function sent(link: FakeLink, uuid: string, n = 1, taskType?: string): Promise<void> {
  await until(() => link.sentFor(uuid, taskType).length >= n, 2_000, `${n} frame(s) for ${uuid}`);
}

describe("task moves - through the engine", () => {
  it("task moves - queued -> sent -> done: results arrive, the caller gets them once", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.reply(result(uuid));
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(out.data).toHaveLength(1);
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>done"]);
  });

  it("task moves - queued -> failed: never sent before the task timeout, it ends taskTimeout", async () => {
    const { engine, movesOf } = setup({ taskTimeoutMs: 30 });
    const uuid = randomUUID();
    const out = await engine.submit(image(uuid)).done;
    expect(out.state).toBe("failed");
    expect(out.errors[0]?.code).toBe("taskTimeout");
    expect(movesOf(uuid)).toEqual(["queued>failed"]);
  });

  it("task moves - sent -> failed: a permanent error is reported at once, never retried", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.reply(error(uuid, "invalidPositivePrompt"));
    const out = await h.done;
    expect(out.state).toBe("failed");
    expect(out.errors.map((e) => e.code)).toEqual(["invalidPositivePrompt"]);
    expect(link.sentFor(uuid)).toHaveLength(1);
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>failed"]);
  });

  it("task moves - sent -> retry-wait -> queued -> sent: a transient error frees the slot and the retry waits its turn", async () => {
    const { link, engine, movesOf, a, b, ha, hb } = await retriedBehindAnother();
    expect(engine.get(a)?.state).toBe("queued"); // waiting for a slot again, as callers see it
    link.reply(result(b));
    await sent(link, a, 2);
    link.reply(result(a));
    expect((await ha.done).state).toBe("done");
    expect((await hb.done).state).toBe("done");
    expect(link.sentFor(a).map((t) => t.taskUUID)).toEqual([a, a]); // the same UUID, never a new one
    expect(movesOf(a)).toEqual(["queued>sent", "sent>retry-wait", "retry-wait>queued", "queued>sent", "sent>done"]);
  });

  it("task moves - queued -> in-doubt and sent -> in-doubt: stopping ends everything that was ever sent as in doubt", async () => {
    const { engine, movesOf, a, b, ha, hb } = await retriedBehindAnother();
    await engine.close("stop requested");
    const [oa, ob] = await Promise.all([ha.done, hb.done]);
    expect([oa.state, ob.state]).toEqual(["in-doubt", "in-doubt"]);
    expect(oa.errors.at(-1)?.code).toBe("taskInDoubt");
    expect(movesOf(a).at(-1)).toBe("queued>in-doubt");
    expect(movesOf(b)).toEqual(["queued>sent", "sent>in-doubt"]);
  });

  it("task moves - queued -> done: a late result of the attempt being retried completes the task without a second send", async () => {
    const { link, movesOf, a, b, ha } = await retriedBehindAnother();
    link.reply(result(a));
    const out = await ha.done;
    expect(out.state).toBe("done");
    expect(link.sentFor(a)).toHaveLength(1);
    expect(movesOf(a).at(-1)).toBe("queued>done");
    link.reply(result(b));
  });

  it("task moves - retry-wait -> done and -> in-doubt: a late result, or a stop, during the retry delay", async () => {
    const { link, engine, movesOf } = setup({ retryBaseMs: 60_000, retryMaxMs: 60_000 });
    link.up();
    const [a, c] = [randomUUID(), randomUUID()];
    const [ha, hc] = [a, c].map((u) => engine.submit(image(u)));
    await Promise.all([a, c].map((u) => sent(link, u)));
    for (const u of [a, c]) link.reply(error(u, "timeoutProvider"));
    expect([a, c].map((u) => movesOf(u).at(-1))).toEqual(["sent>retry-wait", "sent>retry-wait"]);
    link.reply(result(a));
    expect((await ha!.done).state).toBe("done");
    await engine.close("stop requested");
    expect((await hc!.done).state).toBe("in-doubt");
    expect([movesOf(a).at(-1), movesOf(c).at(-1)]).toEqual(["retry-wait>done", "retry-wait>in-doubt"]);
  });

  it("task moves - retry-wait -> failed: the task timeout ends a retry delay", async () => {
    const { link, engine, movesOf } = setup({ retryBaseMs: 60_000, retryMaxMs: 60_000, taskTimeoutMs: 60 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.reply(error(uuid, "timeoutProvider"));
    const out = await h.done;
    expect(out.state).toBe("failed");
    expect(out.errors.map((e) => e.code)).toEqual(["taskTimeout"]); // the retried error went to listeners as it happened
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>retry-wait", "retry-wait>failed"]);
  });

  it("task moves - sent -> polling -> done: an async task is acknowledged once, then polled until success", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit({ taskType: "videoInference", taskUUID: uuid, deliveryMethod: "async", positivePrompt: "waves" });
    const events: TaskEvent["type"][] = [];
    h.subscribe((ev) => events.push(ev.type));
    await sent(link, uuid);
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid }] });
    await sent(link, uuid, 1, "getResponse");
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid, status: "processing" }] });
    await sent(link, uuid, 2, "getResponse");
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid, status: "success", videoUUID: randomUUID() }] });
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(events).toEqual(["ack", "data", "final"]);
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>polling", "polling>done"]);
  });

  it("task moves - polling -> failed: an acknowledged async task that Runware no longer knows fails with Runware's error", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit({ taskType: "videoInference", taskUUID: uuid, deliveryMethod: "async", positivePrompt: "waves" });
    await sent(link, uuid);
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid }] });
    await sent(link, uuid, 1, "getResponse");
    link.reply(error(uuid, "taskNotFound"));
    const out = await h.done;
    expect(out.state).toBe("failed");
    expect(out.errors.map((e) => e.code)).toEqual(["taskNotFound"]);
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>polling", "polling>failed"]);
  });

  it("task moves - polling -> in-doubt: a sync task Runware said it had (conflictTaskUUID), then forgot, is in doubt, not resent", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.reply(error(uuid, "conflictTaskUUID"));
    await sent(link, uuid, 1, "getResponse");
    link.reply(error(uuid, "taskNotFound"));
    const out = await h.done;
    expect(out.state).toBe("in-doubt");
    expect(out.errors.map((e) => e.code)).toEqual(["taskNotFound", "taskInDoubt"]);
    expect(out.errors.at(-1)?.message).toMatch(/no longer knows it/);
    expect(link.sentFor(uuid, "imageInference")).toHaveLength(1);
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>polling", "polling>in-doubt"]);
  });

  it("task moves - polling -> retry-wait: a transient error in a poll answer is retried under the same UUID, the ack not repeated", async () => {
    const { link, engine, movesOf } = setup({ retryBaseMs: 4, retryMaxMs: 4 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit({ taskType: "videoInference", taskUUID: uuid, deliveryMethod: "async", positivePrompt: "waves" });
    const events: TaskEvent["type"][] = [];
    h.subscribe((ev) => events.push(ev.type));
    await sent(link, uuid);
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid }] });
    await sent(link, uuid, 1, "getResponse");
    link.reply(error(uuid, "timeoutProvider", { status: "error" }));
    await sent(link, uuid, 2, "videoInference");
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid }] }); // acknowledged again upstream
    await sent(link, uuid, 2, "getResponse");
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid, status: "success", videoUUID: randomUUID() }] });
    expect((await h.done).state).toBe("done");
    expect(events).toEqual(["ack", "error", "data", "final"]);
    expect(movesOf(uuid)).toEqual([
      "queued>sent",
      "sent>polling",
      "polling>retry-wait",
      "retry-wait>queued",
      "queued>sent",
      "sent>polling",
      "polling>done",
    ]);
  });
});

describe("task moves - across a dropped link", () => {
  it("task moves - sent -> recovering -> polling -> sent: resumed, then polled, then resent when Runware never got it", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.down();
    expect(engine.get(uuid)?.state).toBe("sent");
    link.up(true);
    await sent(link, uuid, 1, "getResponse"); // after the replay grace
    link.reply(error(uuid, "taskNotFound"));
    await sent(link, uuid, 2, "imageInference");
    link.reply(result(uuid));
    expect((await h.done).state).toBe("done");
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>recovering", "recovering>polling", "polling>sent", "sent>done"]);
  });

  it("task moves - recovering -> sent: a fresh session resubmits under the same UUID on the new link", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.down();
    link.up(false);
    await sent(link, uuid, 2);
    expect(link.sentFor(uuid).map((t) => t.epoch)).toEqual([1, 2]);
    link.reply(result(uuid));
    expect((await h.done).state).toBe("done");
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>recovering", "recovering>sent", "sent>done"]);
  });

  it("task moves - recovering -> done, -> retry-wait, -> failed: what Runware replays on the resumed session counts", async () => {
    const { link, engine, movesOf } = setup({ recoveryGraceMs: 60_000, retryBaseMs: 4, retryMaxMs: 4 });
    link.up();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const [ha, hb, hc] = [a, b, c].map((u) => engine.submit(image(u)));
    await Promise.all([a, b, c].map((u) => sent(link, u)));
    link.down();
    link.up(true);
    link.reply(result(a));
    link.reply(error(b, "timeoutProvider"));
    link.reply(error(c, "invalidModel"));
    expect((await ha!.done).state).toBe("done");
    expect((await hc!.done).state).toBe("failed");
    await sent(link, b, 2);
    link.reply(result(b));
    expect((await hb!.done).state).toBe("done");
    expect(movesOf(a)).toEqual(["queued>sent", "sent>recovering", "recovering>done"]);
    expect(movesOf(b).slice(0, 3)).toEqual(["queued>sent", "sent>recovering", "recovering>retry-wait"]);
    expect(movesOf(c)).toEqual(["queued>sent", "sent>recovering", "recovering>failed"]);
  });

  it("task moves - recovering -> in-doubt: the link never came back within the task timeout", async () => {
    const { link, engine, movesOf } = setup({ taskTimeoutMs: 60 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    link.down();
    const out = await h.done;
    expect(out.state).toBe("in-doubt");
    expect(out.errors.at(-1)?.code).toBe("taskInDoubt");
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>recovering", "recovering>in-doubt"]);
  });

  it("task moves - fresh sessions resubmit as often as they come (same UUID), until the results arrive", async () => {
    const { link, engine, movesOf } = setup({ maxRecoveryResends: 1 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    for (let i = 2; i <= 4; i++) {
      link.down();
      link.up(false);
      await sent(link, uuid, i);
    }
    link.reply(result(uuid));
    expect((await h.done).state).toBe("done");
    expect(new Set(link.sentFor(uuid, "imageInference").map((t) => t.epoch))).toEqual(new Set([1, 2, 3, 4]));
    expect(movesOf(uuid).filter((m) => m === "recovering>sent")).toHaveLength(3);
  });

  it("task moves - 'not found' resends are capped: past maxRecoveryResends the task is in doubt, not sent again", async () => {
    const { link, engine, movesOf } = setup({ maxRecoveryResends: 2 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid));
    await sent(link, uuid);
    for (let i = 1; i <= 3; i++) {
      link.down();
      link.up(true);
      await sent(link, uuid, i, "getResponse");
      link.reply(error(uuid, "taskNotFound"));
      if (i < 3) await sent(link, uuid, i + 1, "imageInference");
    }
    const out = await h.done;
    expect(out.state).toBe("in-doubt");
    expect(out.errors.at(-1)?.message).toMatch(/repeated recovery attempts/);
    expect(link.sentFor(uuid, "imageInference")).toHaveLength(3);
    expect(movesOf(uuid).at(-1)).toBe("polling>in-doubt");
  });

  it("task moves - an async task whose ack was lost with the link is acknowledged to its caller once, on conflictTaskUUID", async () => {
    const { link, engine, movesOf } = setup();
    link.up();
    const uuid = randomUUID();
    const h = engine.submit({ taskType: "videoInference", taskUUID: uuid, deliveryMethod: "async", positivePrompt: "waves" });
    const events: TaskEvent["type"][] = [];
    h.subscribe((ev) => events.push(ev.type));
    await sent(link, uuid);
    link.down();
    link.up(false);
    await sent(link, uuid, 2);
    link.reply(error(uuid, "conflictTaskUUID"));
    await sent(link, uuid, 1, "getResponse");
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid, status: "success", videoUUID: randomUUID() }] });
    expect((await h.done).state).toBe("done");
    expect(events).toEqual(["ack", "data", "final"]);
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>recovering", "recovering>sent", "sent>polling", "polling>done"]);
  });

  it("task moves - a poll answer that arrives while recovering describes an attempt that is over: its error is not acted on", async () => {
    const { link, engine, movesOf } = setup({ recoveryGraceMs: 60_000 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid, { numberResults: 2 }));
    await sent(link, uuid);
    link.down();
    link.up(true);
    link.reply(error(uuid, "timeoutProvider", { status: "error" })); // a getResponse answer: we sent none
    expect(movesOf(uuid)).toEqual(["queued>sent", "sent>recovering"]);
    link.reply({ data: [{ taskType: "imageInference", taskUUID: uuid, status: "success", imageUUID: randomUUID() }] });
    link.reply(result(uuid));
    expect((await h.done).data).toHaveLength(2);
  });
});

describe("task moves - async tasks the daemon gave up on", () => {
  it("task moves - queued -> polling: after the async timeout (in doubt), a lookup asks Runware again and the record ends as Runware says", async () => {
    const { link, engine, movesOf } = setup({ asyncTimeoutMs: 40 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit({ taskType: "videoInference", taskUUID: uuid, positivePrompt: "waves" });
    await sent(link, uuid);
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid }] }); // the ack
    const first = await h.done;
    expect(first).toMatchObject({ state: "in-doubt", askAgain: true, expected: 1 });
    expect(first.errors.at(-1)?.message).toMatch(new RegExp(`Runware accepted task ${uuid} and may still finish it`));
    const polls = link.sentFor(uuid, "getResponse").length;

    const again = engine.reopen(first);
    expect(again).toBeDefined();
    await sent(link, uuid, polls + 1, "getResponse"); // at once
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid, status: "success", videoUUID: randomUUID() }] });
    const out = await again!.done;
    expect(out.state).toBe("done");
    expect(out.data).toHaveLength(1);
    expect(link.sentFor(uuid, "videoInference")).toHaveLength(1); // never submitted again
    expect(movesOf(uuid).slice(-2)).toEqual(["queued>polling", "polling>done"]);
  });
});

describe("task moves - frames that never reached Runware", () => {
  it("task moves - a frame the far end refused as too big (1009) is resent at once in smaller frames, never in doubt", async () => {
    const big = "x".repeat(100 * 1024);
    const { link, engine, movesOf } = setup({ maxFrameBytes: 1024 * 1024, recoveryGraceMs: 60_000 });
    link.up();
    const uuids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const hs = uuids.map((u) => engine.submit(image(u, { positivePrompt: big })));
    await Promise.all(uuids.map((u) => sent(link, u)));
    expect(link.frames).toHaveLength(1); // packed together: about 400 KB, under the 1 MiB limit
    link.down("socket closed (1009 message too big)", 1009);
    link.up(true); // even on a resumed session: Runware never read it, there is nothing to wait for
    await Promise.all(uuids.map((u) => sent(link, u, 2)));
    // From now on no frame is more than half the refused one: here one task each.
    const refused = link.frames[0]!.length;
    expect(link.frames.slice(1).map((f) => (JSON.parse(f) as unknown[]).length)).toEqual([1, 1, 1, 1]);
    expect(link.frames.slice(1).every((f) => f.length <= refused / 2)).toBe(true);
    for (const u of uuids) link.reply(result(u));
    const outs = await Promise.all(hs.map((h) => h.done));
    expect(outs.map((o) => o.state)).toEqual(["done", "done", "done", "done"]);
    expect(link.sentFor(uuids[0]!, "getResponse")).toHaveLength(0);
    expect(movesOf(uuids[0]!)).toEqual(["queued>sent", "sent>recovering", "recovering>sent", "sent>done"]);
  });

  it("task moves - a task refused as too big again and again fails with taskTooLarge instead of looping", async () => {
    const { link, engine, movesOf } = setup({ maxFrameBytes: 1024 * 1024 });
    link.up();
    const uuid = randomUUID();
    const h = engine.submit(image(uuid, { positivePrompt: "x".repeat(200 * 1024) }));
    for (let i = 1; i <= 3; i++) {
      await sent(link, uuid, i);
      link.down("socket closed (1009)", 1009);
      link.up(false);
    }
    const out = await h.done;
    expect(out.state).toBe("failed");
    expect(out.errors.map((e) => e.code)).toEqual(["taskTooLarge"]);
    expect(out.errors[0]?.message).toMatch(/too big \(1009\) 3 times/);
    expect(movesOf(uuid).at(-1)).toBe("sent>failed");
  });

  it("task moves - a frame still being written when the link dropped is resent at once, never in doubt, even at the timeout", async () => {
    const { link, engine, movesOf } = setup({ recoveryGraceMs: 60_000, taskTimeoutMs: 200 });
    link.up();
    link.holdWrites = true;
    const a = randomUUID();
    const ha = engine.submit(image(a));
    await sent(link, a);
    link.down();
    link.holdWrites = false;
    link.up(true);
    await sent(link, a, 2); // at once: no grace, no getResponse
    expect(link.sentFor(a, "getResponse")).toHaveLength(0);
    link.reply(result(a));
    expect((await ha.done).state).toBe("done");
    expect(movesOf(a)).toEqual(["queued>sent", "sent>recovering", "recovering>sent", "sent>done"]);

    // The link never comes back: the task did not reach Runware, so it failed; it is not in doubt.
    link.holdWrites = true;
    const b = randomUUID();
    const hb = engine.submit(image(b));
    await sent(link, b);
    link.down();
    const out = await hb.done;
    expect(out.state).toBe("failed");
    expect(out.errors.at(-1)?.message).toMatch(/could not be delivered/);
    expect(movesOf(b).at(-1)).toBe("recovering>failed");
  });
});

describe("task moves - coverage", () => {
  it("task moves - together the scenarios above reach every legal move of the table, and no other", () => {
    const missing = LEGAL_MOVES.filter((m) => !reached.has(m));
    const unexpected = [...reached].filter((m) => !LEGAL_MOVES.includes(m));
    expect({ missing, unexpected }).toEqual({ missing: [], unexpected: [] });
  });
});
