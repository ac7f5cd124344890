/**
 * Minutes-long async work through a real daemon (issue 12, docs/local-api.md §2.8), end to end over
 * HTTP, NDJSON, the local WebSocket and the Node client, against the simulator: async tasks are
 * polled work (no in-flight slot after the ack, bounded by --async-timeout-ms), progress reaches
 * every caller in order, and a task the daemon gave up on is asked about again instead of answered
 * stale. Every test ends with the daemon stopped, no timer of its clock and no listener left.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { connect, isProgress } from "../../src/client/index.js";
import type { SimOptions } from "../../src/sim/index.js";
import { TrackingClock } from "../../src/util/clock.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, startRig, streamTasks, type DaemonRig, type RigOptions } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The simulator renders video and audio (src/sim/tasks/media-inference.ts). Renders a minute long at scale 1 take a few hundred ms here. */
const FAST_RENDERS: Partial<SimOptions> = { timeScale: 0.005 };
const VIDEO_MODEL = "klingai:5@3";
const AUDIO_MODEL = "elevenlabs:1@1";

interface AsyncRig extends DaemonRig {
  clock: TrackingClock;
  /** Stop the daemon and check that nothing of it is left: no timer, no listener added since the start. */
  stopAndCheck(): Promise<void>;
}

/** An async task that takes `workMs` at the simulator, answered in doubt after the daemon's 150 ms async timeout. */
async function givenUpOn(workMs: number): Promise<{ rig: AsyncRig; uuid: string; err: Obj }> {
  const rig = await start({ flags: { "async-timeout-ms": "150" }, sim: { workMs } });
  const task = asyncImage();
  const uuid = task.taskUUID as string;
  const first = await postTasks(rig.socketPath, [task]);
  expect(first.status).toBe(200);
  const err = first.json?.["errors"]?.[0] as Obj;
  expect(err).toMatchObject({ code: "taskInDoubt", taskUUID: uuid });
  return { rig, uuid, err };
}

async function start(opts: RigOptions = {}): Promise<AsyncRig> {
  const clock = new TrackingClock();
  const rig = await startRig(cleanup, { ...opts, daemon: { engine: { clock } } });
  const engine = rig.daemon.engine;
  const listeners = () => ["settled", "move", "state"].map((e) => engine.listenerCount(e as "settled"));
  const before = listeners();
  return {
    ...rig,
    clock,
    async stopAndCheck() {
      await rig.daemon.stop("test over");
      expect(clock.pending, "engine timers left running").toBe(0);
      expect(engine.pendingCount, "tasks left pending").toBe(0);
      expect(listeners(), "listeners left on the engine").toEqual(before);
    },
  };
}

const videoTask = () => ({
  taskType: "videoInference",
  taskUUID: randomUUID(),
  model: VIDEO_MODEL,
  positivePrompt: "waves on a beach",
  duration: 5,
  width: 1280,
  height: 720,
});

const asyncImage = (extra: Record<string, unknown> = {}) => imageTask({ taskUUID: randomUUID(), deliveryMethod: "async", ...extra });

describe("async - polled work beside sync work", () => {
  it("async - 4 videos and a stream of images at --max-in-flight 2 do not block each other", async () => {
    // Videos render 2 s (a minute at scale 1/30); images 5 ms.
    const rig = await start({ flags: { "max-in-flight": "2" }, sim: { workMs: 5, timeScale: 1 / 30 } });
    const client = connect({ socket: rig.socketPath });
    const videos = Array.from({ length: 4 }, () => videoTask());
    const videosDone = client.run(videos);
    // Acknowledged, they hold no slot: four tasks polled, none in flight.
    await waitFor(() => {
      const t = rig.daemon.engine.stats().tasks;
      return t.async === 4 && t.inFlight === 0;
    }, "the 4 videos acknowledged");
    const images = Array.from({ length: 20 }, () => imageTask({ taskUUID: randomUUID() }));
    const lines = await streamTasks(rig.socketPath, images).ended;
    expect(lines.at(-1)?.value).toMatchObject({ done: true, tasks: 20, completed: 20 });
    // The images are all done while every video is still rendering.
    for (const v of videos) expect(rig.daemon.engine.get(v.taskUUID)?.state).toBe("sent");
    const env = await videosDone;
    expect(env.errors).toBeUndefined();
    expect(env.data.map((d) => d.taskUUID)).toEqual(videos.map((v) => v.taskUUID));
    expect(env.data.every((d) => typeof d["videoURL"] === "string")).toBe(true);
    await rig.stopAndCheck();
  });

  it("async - past --max-async, async tasks wait in the queue while images go on", async () => {
    const rig = await start({ flags: { "max-in-flight": "2", "max-async": "1" }, sim: { workMs: 600 } });
    const client = connect({ socket: rig.socketPath });
    const [a, b] = [asyncImage(), asyncImage()];
    const slowDone = client.run([a, b]);
    await waitFor(() => rig.daemon.engine.stats().tasks.async === 1, "one async task running");
    expect(rig.daemon.engine.get(b.taskUUID as string)?.state).toBe("queued");
    rig.sim.setWorkTime(5);
    const img = await client.run([imageTask()]);
    expect(img.data).toHaveLength(1);
    expect(rig.daemon.engine.get(b.taskUUID as string)?.state).toBe("queued");
    const status = await client.status();
    expect(status.limits["maxAsync"]).toBe(1);
    expect((await slowDone).data).toHaveLength(2);
    await rig.stopAndCheck();
  });
});

describe("async - the Node client", () => {
  it("async - run with onProgress reads the stream and resolves with the same envelope as run, acknowledgements left out", async () => {
    const rig = await start({ sim: { workMs: 100 } });
    const client = connect({ socket: rig.socketPath });
    const tasks = [asyncImage({ numberResults: 2 }), imageTask({ taskUUID: randomUUID() })];
    const plain = await client.run(tasks.map((t) => ({ ...t, taskUUID: randomUUID() })));
    const progress: unknown[] = [];
    const streamed = await client.run(tasks, { onProgress: (p) => progress.push(p) });
    expect(streamed.errors).toBeUndefined();
    expect(streamed.data.map((d) => d.taskUUID)).toEqual([tasks[0]!.taskUUID, tasks[0]!.taskUUID, tasks[1]!.taskUUID]);
    expect(streamed.data.every((d) => typeof d["imageUUID"] === "string")).toBe(true);
    expect(streamed.data).toHaveLength(plain.data.length);
    // Tasks without a taskUUID, one sent async: its acknowledgement is not taken for a result, and
    // results keep the tasks' order.
    const { taskUUID: _a, ...unnamedAsync } = asyncImage();
    const { taskUUID: _b, ...unnamedSync } = imageTask({ numberResults: 2 });
    const mixed = await client.run([unnamedAsync, unnamedSync], { onProgress: (p) => progress.push(p) });
    expect(mixed.errors).toBeUndefined();
    expect(mixed.data).toHaveLength(3);
    expect(mixed.data.every((d) => typeof d["imageUUID"] === "string")).toBe(true);
    expect(new Set(mixed.data.map((d) => d.taskUUID)).size).toBe(2);
    expect(mixed.data[1]?.taskUUID).toBe(mixed.data[2]?.taskUUID);
    expect(isProgress({ taskType: "videoInference", taskUUID: "u", status: "processing", progress: 5 })).toBe(true);
    expect(streamed.data.some(isProgress)).toBe(false);
    await rig.stopAndCheck();
  });
});

describe("async - timeouts", () => {
  it("async - a task outliving --task-timeout-ms but within --async-timeout-ms succeeds (local WebSocket: ack, then its own getResponse)", async () => {
    const rig = await start({ flags: { "task-timeout-ms": "300", "async-timeout-ms": "20000" }, sim: { workMs: 900, timeScale: 0.015 } });
    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.close());
    await ws.authenticate("client-key");
    const task = asyncImage();
    const uuid = task.taskUUID as string;
    const started = Date.now();
    ws.send([task]);
    const ackFrame = await ws.waitFor((f) => Array.isArray(f["data"]) && f["data"].some((d) => d["taskUUID"] === uuid));
    expect((ackFrame["data"] as Obj[])[0]).toEqual({ taskType: "imageInference", taskUUID: uuid });
    // The client polls with its own getResponse until the answer is final.
    const answer = await waitFor(
      async () => {
        const from = ws.mark();
        ws.send([{ taskType: "getResponse", taskUUID: uuid }]);
        const f = await ws.waitFor((x) => Array.isArray(x["data"]) || Array.isArray(x["errors"]), { from });
        const items = f["data"] ?? [];
        return f["errors"] || !items.some((d) => d["status"] === "processing") ? f : undefined;
      },
      "a final getResponse answer",
      15_000,
    );
    expect(answer["errors"]).toBeUndefined();
    expect((answer["data"] as Obj[])[0]).toMatchObject({ taskUUID: uuid, status: "success" });
    expect(Date.now() - started).toBeGreaterThan(300);
    // A video (900 ms) sent as simply as an image, over HTTP: the daemon polls past the task timeout.
    const v = videoTask();
    const res = await postTasks(rig.socketPath, [v], {}, 15_000);
    expect(res.json?.["errors"]).toBeUndefined();
    expect(res.json?.["data"]?.[0]).toMatchObject({ taskUUID: v.taskUUID, videoURL: expect.stringMatching(/^http:/) });
    await rig.stopAndCheck();
  });

  it("async - a daemon-side async timeout is answered in doubt naming the task; ?wait=1 then asks Runware again and succeeds", async () => {
    const { rig, uuid, err } = await givenUpOn(1_000);
    expect(err["message"]).toContain(`Runware accepted task ${uuid} and may still finish it`);
    expect(err["message"]).toContain(`GET /v1/tasks/${uuid}?wait=1`);

    // A later lookup is not the stale failure: Runware is asked again, the record updated.
    const now = await getJson(rig.socketPath, `/v1/tasks/${uuid}`);
    expect(now.json).toMatchObject({ taskUUID: uuid, state: "sent" }); // Runware says: still processing
    // Asked again, the task is bounded by the async timeout again (150 ms: in doubt again); once
    // Runware has finished it, the next lookup gets its results.
    await waitFor(() => rig.sim.counters.outstanding === 0, "the simulator to finish the render");
    const later = await getJson(rig.socketPath, `/v1/tasks/${uuid}?wait=1`);
    expect(later.status).toBe(200);
    expect(later.json).toMatchObject({ taskUUID: uuid, state: "done" });
    expect(later.json?.["data"]?.[0]?.["imageURL"]).toMatch(/^http:/);
    // The record now says done, to every kind of lookup.
    const client = connect({ socket: rig.socketPath });
    expect((await client.task(uuid))?.state).toBe("done");
    const poll = await client.run([{ taskType: "getResponse", taskUUID: uuid }]);
    expect(poll.data[0]).toMatchObject({ taskUUID: uuid, status: "success" });
    await rig.stopAndCheck();
  });

  it("async - a lookup of a task given up on does not hang once Runware is gone: it shows the record as it stands", async () => {
    const { rig, uuid } = await givenUpOn(5_000);
    await rig.sim.close(); // Runware is gone: nothing can answer
    const t0 = performance.now();
    const now = await getJson(rig.socketPath, `/v1/tasks/${uuid}`);
    expect(now.status).toBe(200);
    // Not Runware's answer (none came), not a stale "done": the record as it stands, being asked again.
    expect(now.json).toMatchObject({ taskUUID: uuid });
    expect(["sent", "in-doubt"]).toContain(now.json?.["state"]);
    expect(performance.now() - t0).toBeLessThan(5_000);
    await rig.stopAndCheck();
  });

  it("async - a drain answers a running async task in doubt, naming it (NDJSON)", async () => {
    const rig = await start({ flags: { "drain-timeout-ms": "50" }, sim: { workMs: 5_000 } });
    const task = asyncImage();
    const uuid = task.taskUUID as string;
    const stream = streamTasks(rig.socketPath, [task]);
    await waitFor(() => rig.daemon.engine.stats().tasks.async === 1 && rig.daemon.engine.stats().tasks.inFlight === 0, "acknowledged");
    await rig.stopAndCheck();
    const lines = (await stream.ended).map((l) => l.value);
    const errLine = lines.find((l) => l["errors"]);
    expect(errLine?.["errors"]?.[0]?.["message"]).toContain(`Runware accepted task ${uuid} and may still finish it`);
    expect(lines.at(-1)).toMatchObject({ done: true, inDoubt: 1 });
  });
});

describe("async - video and audio (the simulator renders them)", () => {
  const video = videoTask;
  const audio = () => ({ taskType: "audioInference", taskUUID: randomUUID(), model: AUDIO_MODEL, positivePrompt: "rain", duration: 5 });

  it("async - video and audio sent without deliveryMethod finish with their files (HTTP, local WebSocket, Node client)", async () => {
    const rig = await start({ sim: FAST_RENDERS });
    const res = await postTasks(rig.socketPath, [video(), audio()], {}, 15_000);
    expect(res.json?.["errors"]).toBeUndefined();
    const [v, a] = (res.json?.["data"] ?? []) as Obj[];
    for (const url of [v?.["videoURL"], a?.["audioURL"]]) {
      expect(url).toMatch(/^http:/);
      const file = await fetch(url as string);
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    // A local WebSocket client that did not ask for async gets the result pushed, as for a sync task.
    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.close());
    await ws.authenticate("client-key");
    const [overWs, audioOverWs] = [video(), audio()];
    ws.send([overWs]);
    ws.send([audioOverWs]);
    const [item] = await ws.itemsFor(overWs.taskUUID, 1, 15_000);
    expect(item?.["videoURL"]).toMatch(/^http:/);
    const [audioItem] = await ws.itemsFor(audioOverWs.taskUUID, 1, 15_000);
    expect(audioItem?.["audioURL"]).toMatch(/^http:/);
    const [v2, a2] = [video(), audio()];
    const progress = new Map<string, number[]>([
      [v2.taskUUID, []],
      [a2.taskUUID, []],
    ]);
    const env = await connect({ socket: rig.socketPath }).run([v2, a2], { onProgress: (p) => progress.get(p.taskUUID)?.push(p.progress) });
    expect(env.errors).toBeUndefined();
    expect(env.data).toHaveLength(2);
    expect(env.data[0]?.["videoURL"]).toMatch(/^http:/);
    expect(env.data[1]?.["audioURL"]).toMatch(/^http:/);
    const videoProgress = progress.get(v2.taskUUID) ?? [];
    expect(videoProgress.length).toBeGreaterThan(0);
    for (const seen of progress.values()) expect(seen).toEqual([...new Set(seen)].sort((x, y) => x - y)); // rising, each once
    await rig.stopAndCheck();
  });

  it("async - progress arrives in order: NDJSON processing items, GET /v1/tasks, a local WebSocket's getResponse", async () => {
    const rig = await start({ sim: FAST_RENDERS });
    const task = video();
    const stream = streamTasks(rig.socketPath, [task], 15_000);
    const seen: number[] = [];
    await waitFor(async () => {
      const view = await getJson(rig.socketPath, `/v1/tasks/${task.taskUUID}`);
      const p = view.json?.["progress"];
      if (typeof p === "number") seen.push(p);
      return view.json?.["state"] === "done";
    }, "the video done");
    const lines = (await stream.ended).map((l) => l.value);
    const items = lines.flatMap((l) => (l["data"] as Obj[] | undefined) ?? []);
    const progress = items.filter((i) => i["status"] === "processing").map((i) => i["progress"] as number);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...new Set(progress)].sort((x, y) => x - y)); // rising, each once
    expect(items.at(-1)?.["videoURL"]).toMatch(/^http:/);
    expect(lines.at(-1)).toMatchObject({ done: true, completed: 1, results: 1 });
    expect(seen).toEqual([...seen].sort((x, y) => x - y));

    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.close());
    await ws.authenticate("client-key");
    const own = { ...video(), deliveryMethod: "async" };
    ws.send([own]);
    const wsProgress: number[] = [];
    const final = await waitFor(
      async () => {
        const from = ws.mark();
        ws.send([{ taskType: "getResponse", taskUUID: own.taskUUID }]);
        const f = await ws.waitFor((x) => Array.isArray(x["data"]) && x["data"].some((d) => d["status"] !== undefined), { from });
        const item = (f["data"] as Obj[])[0] as Obj;
        if (item["status"] !== "processing") return item;
        if (typeof item["progress"] === "number") wsProgress.push(item["progress"]);
        return undefined;
      },
      "the video's final getResponse answer",
      15_000,
    );
    expect(final).toMatchObject({ taskUUID: own.taskUUID, status: "success", videoURL: expect.stringMatching(/^http:/) });
    expect(wsProgress.length).toBeGreaterThan(0);
    expect(wsProgress).toEqual([...wsProgress].sort((x, y) => x - y));
    await rig.stopAndCheck();
  });
});
