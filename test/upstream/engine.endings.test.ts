/**
 * How tasks end by their kind (protocol/task-kinds.ts, docs/protocol.md §3.3), over a link driven
 * by hand: a webhookURL ends a task at Runware's acknowledgement, async or not; a modelUpload ends
 * at its first status that is not an in-progress one, is bounded by the async timeout, and after a
 * drop is never asked about with getResponse (Runware does not answer it).
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { UpstreamEngine, type EngineOptions } from "../../src/upstream/engine.js";
import type { TaskEvent } from "../../src/upstream/task.js";
import { TrackingClock } from "../../src/util/clock.js";
import { FAST, imageTask, until } from "../helpers/engine.js";
import { FakeLink } from "../helpers/fake-link.js";

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

async function sent(link: FakeLink, uuid: string, n = 1, taskType?: string): Promise<void> {
  await until(() => link.sentFor(uuid, taskType).length >= n, 2_000, `${n} frame(s) for ${uuid}`);
}

const HOOK = "http://127.0.0.1:9/hook";
const modelUpload = (uuid: string) => ({
  taskType: "modelUpload",
  taskUUID: uuid,
  air: "myorg:42@1",
  category: "lora",
  architecture: "sdxl",
  name: "Style LoRA",
  version: "1.0",
  downloadURL: "https://example.com/lora.safetensors",
});
const status = (uuid: string, s: string, extra: Record<string, unknown> = {}) => ({
  data: [{ taskType: "modelUpload", taskUUID: uuid, status: s, ...extra }],
});

describe("engine - endings by kind", () => {
  it("endings - a video with a webhookURL ends at its acknowledgement and is never polled", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit({
      taskType: "videoInference",
      taskUUID: uuid,
      model: "klingai:5@3",
      positivePrompt: "waves",
      webhookURL: HOOK,
    });
    await sent(link, uuid);
    expect(link.sentFor(uuid)[0]?.["deliveryMethod"]).toBe("async");
    link.reply({ data: [{ taskType: "videoInference", taskUUID: uuid }] });
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(out.data).toEqual([{ taskType: "videoInference", taskUUID: uuid }]);
    expect(link.sentFor(uuid, "getResponse")).toHaveLength(0);
    expect(engine.stats().tasks.async).toBe(0);
  });

  it("endings - a caller who asked for async with a webhookURL gets the acknowledgement once, as the result", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(imageTask({ taskUUID: uuid, deliveryMethod: "async", numberResults: 3, webhookURL: HOOK }));
    const events: string[] = [];
    h.subscribe((ev: TaskEvent) => events.push(ev.type));
    await sent(link, uuid);
    link.reply({ data: [{ taskType: "imageInference", taskUUID: uuid }] });
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(out.data).toHaveLength(1);
    expect(events).toEqual(["data", "final"]);
    expect(link.sentFor(uuid, "getResponse")).toHaveLength(0);
  });

  it("endings - modelUpload: every status reaches the caller and ready ends it done", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(modelUpload(uuid));
    const seen: unknown[] = [];
    h.subscribe((ev: TaskEvent) => ev.type === "data" && seen.push(ev.item["status"]));
    await sent(link, uuid);
    for (const s of ["validated", "downloaded", "optimized", "stored"]) link.reply(status(uuid, s));
    expect(engine.get(uuid)?.state).toBe("sent");
    link.reply(status(uuid, "ready", { air: "myorg:42@1" }));
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(seen).toEqual(["validated", "downloaded", "optimized", "stored", "ready"]);
  });

  it("endings - modelUpload: a status that is not an in-progress one (error downloading) ends it failed, its statuses kept", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(modelUpload(uuid));
    await sent(link, uuid);
    link.reply(status(uuid, "validated"));
    link.reply(status(uuid, "error downloading", { message: "the download URL answered 404" }));
    const out = await h.done;
    expect(out.state).toBe("failed");
    expect(out.errors).toEqual([
      {
        code: "taskStatusFailed",
        message: 'the task ended with status "error downloading": the download URL answered 404',
        taskUUID: uuid,
        taskType: "modelUpload",
      },
    ]);
    expect(out.data.map((d) => d["status"])).toEqual(["validated", "error downloading"]);
  });

  it("endings - modelUpload after a drop: a resumed session is waited on, never polled, and its stream finishes the task", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(modelUpload(uuid));
    await sent(link, uuid);
    link.reply(status(uuid, "validated"));
    link.down();
    link.up(true);
    // Longer than the recovery grace (30 ms), after which an image would be polled.
    const img = randomUUID();
    const hi = engine.submit(imageTask({ taskUUID: img }));
    await sent(link, img);
    link.down();
    link.up(true);
    await until(() => link.sentFor(img, "getResponse").length > 0, 2_000, "the image polled after the grace");
    expect(link.sentFor(uuid, "getResponse")).toHaveLength(0);
    expect(link.sentFor(uuid, "modelUpload")).toHaveLength(1);
    link.reply({ data: [{ taskType: "imageInference", taskUUID: img, imageUUID: randomUUID() }] });
    expect((await hi.done).state).toBe("done");
    for (const s of ["downloaded", "optimized", "stored", "ready"]) link.reply(status(uuid, s));
    expect((await h.done).state).toBe("done");
  });

  it("endings - modelUpload on a fresh session: resent under the same UUID; conflictTaskUUID makes it in doubt, never polled", async () => {
    const { link, engine } = setup();
    const uuid = randomUUID();
    const h = engine.submit(modelUpload(uuid));
    await sent(link, uuid);
    link.reply(status(uuid, "validated"));
    link.down();
    link.up(false);
    await sent(link, uuid, 2, "modelUpload");
    expect(link.sentFor(uuid, "modelUpload").map((t) => t.taskUUID)).toEqual([uuid, uuid]);
    link.reply({ errors: [{ code: "conflictTaskUUID", message: "taskUUID in use", taskUUID: uuid, taskType: "modelUpload" }] });
    const out = await h.done;
    expect(out.state).toBe("in-doubt");
    expect(out.errors.at(-1)).toMatchObject({ code: "taskInDoubt", message: expect.stringContaining("modelSearch") });
    expect(link.sentFor(uuid, "getResponse")).toHaveLength(0);
    expect(engine.stats().tasks.async).toBe(0);
  });

  it("endings - modelUpload is bounded by the async timeout, not the task timeout", async () => {
    const { link, engine } = setup({ taskTimeoutMs: 40, asyncTimeoutMs: 400 });
    const uuid = randomUUID();
    const h = engine.submit(modelUpload(uuid));
    const img = randomUUID();
    const hi = engine.submit(imageTask({ taskUUID: img }));
    await sent(link, uuid);
    link.reply(status(uuid, "validated"));
    // The image, on the task timeout, fails first; the upload is still running.
    expect((await hi.done).errors[0]?.code).toBe("taskTimeout");
    expect(engine.get(uuid)?.state).toBe("sent");
    const out = await h.done;
    expect(out.state).toBe("failed");
    expect(out.errors[0]).toMatchObject({ code: "taskTimeout", message: expect.stringContaining("400 ms") });
  });
});
