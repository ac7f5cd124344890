/**
 * Async tasks in the engine (issue 12), over a link driven by hand: sent async by their kind,
 * polled work after the ack (no in-flight slot, a place under maxAsync, the async timeout), polls
 * of many tasks in one frame, progress in order.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { UpstreamEngine, type EngineOptions } from "../../src/upstream/engine.js";
import type { TaskEvent } from "../../src/upstream/task.js";
import { TrackingClock } from "../../src/util/clock.js";
import { FAST, imageTask, until } from "../helpers/engine.js";
import { FakeLink } from "../helpers/fake-link.js";
import { AuthError } from "../../src/errors.js";

interface Rig {
  link: FakeLink;
  engine: UpstreamEngine;
  clock: TrackingClock;
}
let rig: Rig | undefined;

function setup(over: Partial<EngineOptions> = {}): Rig {
  const link = new FakeLink();
  const clock = new TrackingClock();
  const engine = new UpstreamEngine({ ...FAST, url: "ws://unused", apiKey: "k", clock, random: () => 0.5, ...over }, link);
  engine.start();
  link.up();
  rig = { link, engine, clock };
  return rig;
}

/** Every test ends with the leak check: no timer left running, no slot or async place left taken. */
async function closeAndCheck(r: Rig): Promise<void> {
  await r.engine.close("test over");
  expect(r.clock.pending, "timers left running").toBe(0);
  expect(r.engine.stats().tasks).toMatchObject({ inFlight: 0, async: 0, queued: 0 });
}

afterEach(async () => {
  const r = rig;
  rig = undefined;
  if (r) await closeAndCheck(r);
});

const video = (uuid: string, extra: Record<string, unknown> = {}) => ({
  taskType: "videoInference",
  taskUUID: uuid,
  model: "klingai:5@3",
  positivePrompt: "waves",
  ...extra,
});
const ack = (uuid: string) => ({ data: [{ taskType: "videoInference", taskUUID: uuid }] });
const processing = (uuid: string, progress?: number) => ({
  data: [{ taskType: "videoInference", taskUUID: uuid, status: "processing", ...(progress === undefined ? {} : { progress }) }],
});
const success = (uuid: string) => ({
  data: [{ taskType: "videoInference", taskUUID: uuid, status: "success", videoUUID: randomUUID(), videoURL: "http://x/v.mp4" }],
});

async function sent(link: FakeLink, uuid: string, n = 1, taskType?: string): Promise<void> {
  await until(() => link.sentFor(uuid, taskType).length >= n, 2_000, `${n} frame(s) for ${uuid}`);
}

describe("engine - async tasks", () => {
  it("async - a video sent without deliveryMethod goes out async; its caller sees no ack, only its result, as for a sync task", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(video(uuid));
    const events: string[] = [];
    h.subscribe((ev: TaskEvent) => events.push(ev.type));
    await sent(link, uuid);
    expect(link.sentFor(uuid)[0]?.["deliveryMethod"]).toBe("async");
    link.reply(ack(uuid));
    await sent(link, uuid, 1, "getResponse");
    link.reply(success(uuid));
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(out.data[0]?.["videoURL"]).toBe("http://x/v.mp4");
    expect(events).toEqual(["data", "final"]);
    // An image keeps Runware's default (sync); a caller's own deliveryMethod is never changed.
    const img = randomUUID();
    engine.submit(imageTask({ taskUUID: img }));
    const own = randomUUID();
    engine.submit(video(own, { deliveryMethod: "sync" }));
    await sent(link, img);
    await sent(link, own);
    expect(link.sentFor(img)[0]?.["deliveryMethod"]).toBeUndefined();
    expect(link.sentFor(own)[0]?.["deliveryMethod"]).toBe("sync");
  });

  it("async - an acknowledged video gives its in-flight slot back: images behind it run at --max-in-flight 1", async () => {
    const { link, engine } = setup({ maxInFlight: 1 });
    const v = randomUUID();
    const hv = engine.submit(video(v));
    const img = randomUUID();
    const hi = engine.submit(imageTask({ taskUUID: img }));
    await sent(link, v);
    expect(link.sentFor(img)).toHaveLength(0); // the slot is the video's until Runware has it
    link.reply(ack(v));
    await sent(link, img);
    expect(engine.stats().tasks).toMatchObject({ inFlight: 1, async: 1 });
    link.reply({ data: [{ taskType: "imageInference", taskUUID: img, imageUUID: randomUUID() }] });
    expect((await hi.done).state).toBe("done");
    await sent(link, v, 1, "getResponse");
    link.reply(success(v));
    expect((await hv.done).state).toBe("done");
  });

  it("async - past --max-async, further async tasks wait in the queue while the images behind them go on", async () => {
    const { link, engine } = setup({ maxInFlight: 2, maxAsync: 1 });
    const [a, b] = [randomUUID(), randomUUID()];
    const ha = engine.submit(video(a));
    const hb = engine.submit(video(b));
    const img = randomUUID();
    const hi = engine.submit(imageTask({ taskUUID: img }));
    await sent(link, a);
    await sent(link, img); // b waits for room under maxAsync; the image took the second slot
    expect(link.sentFor(b)).toHaveLength(0);
    expect(engine.stats().tasks).toMatchObject({ queued: 1, async: 1 });
    link.reply({ data: [{ taskType: "imageInference", taskUUID: img, imageUUID: randomUUID() }] });
    await hi.done;
    link.reply(ack(a));
    await sent(link, a, 1, "getResponse");
    expect(link.sentFor(b)).toHaveLength(0);
    link.reply(success(a));
    await ha.done;
    await sent(link, b); // a's end made room
    link.reply(ack(b));
    await sent(link, b, 1, "getResponse");
    link.reply(success(b));
    expect((await hb.done).state).toBe("done");
  });

  it("async - outliving the task timeout after its ack is fine; --async-timeout-ms from the ack ends it in doubt, naming it", async () => {
    const { link, engine } = setup({ taskTimeoutMs: 40, asyncTimeoutMs: 300 });
    const uuid = randomUUID();
    const h = engine.submit(video(uuid));
    await sent(link, uuid);
    const ackedAt = Date.now();
    link.reply(ack(uuid));
    const out = await h.done;
    // Ended by the async timeout (named in the message), long after the 40 ms task timeout.
    expect(Date.now() - ackedAt).toBeGreaterThanOrEqual(250);
    expect(out.state).toBe("in-doubt");
    expect(out.askAgain).toBe(true);
    expect(out.errors.at(-1)).toMatchObject({ code: "taskInDoubt", taskUUID: uuid });
    expect(out.errors.at(-1)?.message).toMatch(/300 ms \(--async-timeout-ms\).*may still finish it/);
  });

  it("async - once the API key is rejected, a task given up on is not asked about again (nothing would answer)", async () => {
    const { link, engine } = setup({ asyncTimeoutMs: 40 });
    const uuid = randomUUID();
    const h = engine.submit(video(uuid));
    await sent(link, uuid);
    link.reply(ack(uuid));
    const first = await h.done;
    expect(first).toMatchObject({ state: "in-doubt", askAgain: true });
    link.emit("authFailed", new AuthError("invalidApiKey", "the API key was rejected"));
    expect(engine.reopen(first)).toBeUndefined();
    expect(engine.pendingCount).toBe(0);
  });

  it("async - the polls of many tasks due together leave in one frame", async () => {
    const { link, engine } = setup({ maxInFlight: 8 });
    const uuids = Array.from({ length: 6 }, () => randomUUID());
    const hs = uuids.map((u) => engine.submit(video(u)));
    await Promise.all(uuids.map((u) => sent(link, u)));
    link.reply({ data: uuids.map((u) => ({ taskType: "videoInference", taskUUID: u })) });
    await Promise.all(uuids.map((u) => sent(link, u, 1, "getResponse")));
    const pollFrames = link.frames.filter((f) => f.includes('"getResponse"'));
    expect(pollFrames).toHaveLength(1);
    expect((JSON.parse(pollFrames[0]!) as unknown[]).length).toBe(6);
    link.reply({ data: uuids.flatMap((u) => success(u).data) });
    expect((await Promise.all(hs.map((h) => h.done))).every((o) => o.state === "done")).toBe(true);
  });

  it("async - each new progress value reaches the caller once, in order; repeated or lower values do not", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(video(uuid));
    const progress: unknown[] = [];
    h.subscribe((ev) => {
      if (ev.type === "progress") progress.push(ev.item["progress"]);
    });
    await sent(link, uuid);
    link.reply(ack(uuid));
    for (const [i, p] of [10, 10, 35, 20, 80].entries()) {
      await sent(link, uuid, i + 1, "getResponse");
      link.reply(processing(uuid, p));
    }
    expect(engine.get(uuid)?.progress).toBe(80);
    await sent(link, uuid, 6, "getResponse");
    link.reply(success(uuid));
    expect((await h.done).state).toBe("done");
    expect(progress).toEqual([10, 35, 80]);
  });
});
