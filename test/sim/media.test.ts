import { describe, it, expect } from "vitest";
import { randomUUID } from "node:crypto";
import type { Frame, Obj, WsTestClient } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { AUDIO_MODELS, VIDEO_MODELS } from "../../src/sim/index.js";
import { audioTask, getResponse, useSim, videoTask } from "./harness.js";

/** At scale 0.005 the default 60 s video renders in 300 ms and the 15 s audio in 75 ms. */
const FAST_SCALE = 0.005;

/** Poll until every item is `success` (a few ms apart); returns every reply in order. */
async function pollUntilDone(c: WsTestClient, taskUUID: string): Promise<Frame[]> {
  const replies: Frame[] = [];
  for (;;) {
    const reply = await getResponse(c, taskUUID);
    replies.push(reply);
    if (reply.errors || reply.data?.every((i) => i["status"] !== "processing")) return replies;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function fetchBytes(url: string): Promise<{ type: string | null; bytes: Buffer }> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return { type: res.headers.get("content-type"), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Top-level ISO BMFF boxes as [type, size]; they must tile the file exactly. */
function topBoxes(file: Buffer): Array<[string, number]> {
  const boxes: Array<[string, number]> = [];
  for (let at = 0; at < file.length;) {
    const size = file.readUInt32BE(at);
    expect(size).toBeGreaterThanOrEqual(8);
    boxes.push([file.toString("latin1", at + 4, at + 8), size]);
    at += size;
    expect(at).toBeLessThanOrEqual(file.length);
  }
  return boxes;
}

describe("sim - videoInference and audioInference", () => {
  const { start, authed } = useSim();

  it.each([
    ["videoInference without deliveryMethod", videoTask({ deliveryMethod: undefined })],
    ["videoInference with deliveryMethod sync", videoTask({ deliveryMethod: "sync" })],
    ["audioInference without deliveryMethod", audioTask({ deliveryMethod: undefined })],
  ])("sim - refuses %s with invalidDeliveryMethod", async (_, task) => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    c.send([task]);
    const error = await c.errorFor(task.taskUUID);
    expect(error).toMatchObject({
      code: "invalidDeliveryMethod",
      parameter: "deliveryMethod",
      taskType: task["taskType"],
      taskUUID: task.taskUUID,
    });
    expect(error["message"]).toMatch(/async/);
    expect(sim.counters.outstanding).toBe(0);
    // kept as failed: getResponse reports the same error and the UUID may be reused
    expect((await getResponse(c, task.taskUUID)).errors?.[0]).toMatchObject({ code: "invalidDeliveryMethod", status: "error" });
  });

  it("sim - acks an async video, reports rising integer progress while it renders, then success with videoUUID, videoURL, seed and cost", async () => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    const task = videoTask({ includeCost: true, seed: 42 });
    c.send([task]);
    const [ack] = await c.itemsFor(task.taskUUID, 1);
    expect(ack).toEqual({ taskType: "videoInference", taskUUID: task.taskUUID });

    const replies = await pollUntilDone(c, task.taskUUID);
    const processing = replies.slice(0, -1).map((r) => r.data![0]!);
    expect(processing.length).toBeGreaterThan(1);
    for (const item of processing) {
      expect(Object.keys(item).sort()).toEqual(["progress", "status", "taskType", "taskUUID"]);
      expect(item).toMatchObject({ taskType: "videoInference", taskUUID: task.taskUUID, status: "processing" });
      expect(Number.isInteger(item["progress"]) && item["progress"] >= 0 && item["progress"] <= 99).toBe(true);
    }
    const progress = processing.map((i) => i["progress"] as number);
    expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never goes back
    expect(new Set(progress).size).toBeGreaterThan(1); // and does rise

    const done = replies.at(-1)!;
    expect(done.errors).toBeUndefined();
    expect(done.data).toHaveLength(1);
    const item = done.data![0]!;
    expect(item).toEqual({
      taskType: "videoInference",
      taskUUID: task.taskUUID,
      status: "success",
      videoUUID: expect.any(String),
      videoURL: `${sim.httpUrl}/video/${item["videoUUID"]}.mp4`,
      seed: 42,
      cost: expect.any(Number),
    });
    expect(c.items(task.taskUUID).filter((i) => i["status"] === undefined)).toHaveLength(1); // nothing pushed but the ack
  });

  it("sim - a video with numberResults 3 finishes its items one by one, each with its own progress", async () => {
    const sim = await start({ timeScale: 0.01, split: "each" }); // 600 ms: items at 200, 400, 600 ms
    const c = await authed(sim);
    const task = videoTask({ numberResults: 3 });
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1);
    const replies = await pollUntilDone(c, task.taskUUID);
    const mixed = replies.find((r) => r.data!.some((i) => i["status"] === "success") && r.data!.some((i) => i["status"] === "processing"));
    expect(mixed, "a reply with some items done and some rendering").toBeDefined();
    // item order is stable; a later item is never further along than an earlier one
    const rank = (i: Obj) => (i["status"] === "success" ? 100 : (i["progress"] as number));
    for (const r of replies) {
      const ranks = r.data!.map(rank);
      expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    }
    const done = replies.at(-1)!.data!;
    expect(new Set(done.map((i) => i["videoUUID"])).size).toBe(3);
  });

  it("sim - an injected error fails a video after its render time, reported by getResponse", async () => {
    const sim = await start({ timeScale: FAST_SCALE });
    sim.injectErrors({ code: "timeoutProvider", taskTypes: ["videoInference"] });
    const c = await authed(sim);
    const task = videoTask();
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1);
    expect((await getResponse(c, task.taskUUID)).data![0]).toMatchObject({ status: "processing", progress: expect.any(Number) });
    const last = (await pollUntilDone(c, task.taskUUID)).at(-1)!;
    expect(last.errors).toEqual([
      expect.objectContaining({ code: "timeoutProvider", status: "error", taskType: "videoInference", taskUUID: task.taskUUID }),
    ]);
  });

  it("sim - serves the video as a valid MP4 and the audio as valid MP3 and WAV files over HTTP", async () => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    const tasks = [videoTask(), videoTask({ outputFormat: "mov" }), audioTask(), audioTask({ outputFormat: "WAV" })];
    c.send(tasks);
    const items: Obj[] = [];
    for (const t of tasks) items.push((await pollUntilDone(c, t.taskUUID)).at(-1)!.data![0]!);

    const mp4 = await fetchBytes(items[0]!["videoURL"]);
    expect(mp4.type).toBe("video/mp4");
    expect(mp4.bytes.length).toBeLessThan(4096);
    expect(topBoxes(mp4.bytes).map(([t]) => t)).toEqual(["ftyp", "moov", "mdat"]);
    expect(mp4.bytes.toString("latin1", 8, 12)).toBe("isom");
    expect(mp4.bytes.includes(Buffer.from("avcC"))).toBe(true);

    expect(items[1]!["videoURL"]).toMatch(/\.mov$/);
    const mov = await fetchBytes(items[1]!["videoURL"]);
    expect(mov.type).toBe("video/quicktime");
    expect(mov.bytes.toString("latin1", 4, 12)).toBe("ftypqt  ");

    expect(items[2]!["audioURL"]).toBe(`${sim.httpUrl}/audio/${items[2]!["audioUUID"]}.mp3`);
    const mp3 = await fetchBytes(items[2]!["audioURL"]);
    expect(mp3.type).toBe("audio/mpeg");
    expect([mp3.bytes[0], mp3.bytes[1]! & 0xfe]).toEqual([0xff, 0xfa]); // frame sync, MPEG-1 Layer III

    const wav = await fetchBytes(items[3]!["audioURL"]);
    expect(wav.type).toBe("audio/wav");
    expect(wav.bytes.toString("latin1", 0, 4)).toBe("RIFF");
    expect(wav.bytes.toString("latin1", 8, 12)).toBe("WAVE");
    expect(wav.bytes.readUInt32LE(4)).toBe(wav.bytes.length - 8);

    const head = await fetch(items[0]!["videoURL"], { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(mp4.bytes.length));
    // the URL names the kind and extension it was given under
    expect((await fetch(items[0]!["videoURL"].replace("/video/", "/audio/"))).status).toBe(404);
  });

  it("sim - gives audio as audioBase64Data or audioDataURI when asked, and several results with consecutive seeds", async () => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    const b64 = audioTask({ outputType: "base64Data", outputFormat: "wav", numberResults: 2, seed: 7 });
    const uri = audioTask({ outputType: "dataURI" });
    c.send([b64, uri]);
    const [b1, b2] = (await pollUntilDone(c, b64.taskUUID)).at(-1)!.data!;
    expect(Buffer.from(b1!["audioBase64Data"], "base64").toString("latin1", 0, 4)).toBe("RIFF");
    expect([b1!["seed"], b2!["seed"]]).toEqual([7, 8]);
    expect(b1!["audioUUID"]).not.toBe(b2!["audioUUID"]);
    expect(b1!["audioURL"]).toBeUndefined();
    const [u] = (await pollUntilDone(c, uri.taskUUID)).at(-1)!.data!;
    expect(u!["audioDataURI"]).toMatch(/^data:audio\/mpeg;base64,\/\/uQ/); // FF FB 90
  });

  it("sim - --time-scale shortens the render: a video sent at scale 0.001 finishes while one sent at scale 1 is still at 0", async () => {
    const sim = await start();
    const c = await authed(sim);
    const slow = videoTask(); // 60 s at scale 1
    c.send([slow]);
    await c.itemsFor(slow.taskUUID, 1);
    const res = await fetch(`${sim.httpUrl}/_sim/setTimeScale`, { method: "POST", body: JSON.stringify({ scale: 0.001 }) });
    expect(res.status).toBe(200);
    expect(sim.options.timeScale).toBe(0.001);
    const fast = videoTask();
    c.send([fast]);
    expect((await pollUntilDone(c, fast.taskUUID)).at(-1)!.data![0]!["status"]).toBe("success");
    expect((await getResponse(c, slow.taskUUID)).data).toEqual([
      { taskType: "videoInference", taskUUID: slow.taskUUID, status: "processing", progress: 0 },
    ]);
  });

  it("sim - setRenderTime sets one kind's render time: audio at 1 s renders while video at 60 s does not", async () => {
    const sim = await start({ timeScale: 0.02 }); // video 1.2 s, audio 300 ms ...
    sim.setRenderTime("audioInference", 1_000); // ... audio now 20 ms
    const c = await authed(sim);
    const video = videoTask();
    const audio = audioTask();
    c.send([video, audio]);
    expect((await pollUntilDone(c, audio.taskUUID)).at(-1)!.data![0]!["status"]).toBe("success");
    expect((await getResponse(c, video.taskUUID)).data![0]!["status"]).toBe("processing");
    expect(() => sim.setRenderTime("videoInference", -1)).toThrow(RangeError);
    expect(() => sim.setTimeScale(Number.NaN)).toThrow(RangeError);
  });

  it("sim - video results and their files expire with taskRetentionMs like other async results", async () => {
    const sim = await start({ timeScale: FAST_SCALE, taskRetentionMs: 400 });
    const c = await authed(sim);
    const task = videoTask();
    c.send([task]);
    const url = (await pollUntilDone(c, task.taskUUID)).at(-1)!.data![0]!["videoURL"] as string;
    expect((await fetch(url)).status).toBe(200);
    await waitFor(async () => (await getResponse(c, task.taskUUID)).errors?.[0]?.["code"] === "taskNotFound", "the result to expire");
    expect((await fetch(url)).status).toBe(404);
  });

  it("sim - counts polls per task, per task type, and frames carrying polls", async () => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    const [v1, v2, a] = [videoTask(), videoTask(), audioTask()];
    c.send([v1, v2, a]);
    await waitFor(() => c.frames.length >= 3, "the three acks");
    const from = c.mark();
    c.send([v1, v2, a].map((t) => ({ taskType: "getResponse", taskUUID: t.taskUUID })));
    await c.waitFor(() => c.frames.length - from >= 3, { from, what: "three poll replies" });
    await getResponse(c, v1.taskUUID);
    const counters = sim.counters;
    expect(counters.getResponses).toEqual({ [v1.taskUUID]: 2, [v2.taskUUID]: 1, [a.taskUUID]: 1 });
    expect(counters.pollsByTaskType).toEqual({ videoInference: 3, audioInference: 1 });
    expect(counters.pollFrames).toBe(2);
    sim.resetCounters();
    expect(sim.counters).toMatchObject({ pollFrames: 0, pollsByTaskType: {}, getResponses: {} });
  });

  it.each([
    ["video without duration", videoTask({ duration: undefined }), "missingDuration", "duration"],
    ["video without width", videoTask({ width: undefined }), "missingWidth", "width"],
    ["video without positivePrompt", videoTask({ positivePrompt: undefined }), "missingPositivePrompt", "positivePrompt"],
    ["video with an image model", videoTask({ model: "runware:101@1" }), "invalidModel", "model"],
    ["video with base64 output", videoTask({ outputType: "base64Data" }), "invalidOutputType", "outputType"],
    ["video as GIF", videoTask({ outputFormat: "GIF" }), "invalidOutputFormat", "outputFormat"],
    ["audio without duration", audioTask({ duration: undefined }), "missingDuration", "duration"],
    ["audio with a video model", audioTask({ model: "google:3@3" }), "invalidModel", "model"],
    ["audio as AAC", audioTask({ outputFormat: "AAC" }), "invalidOutputFormat", "outputFormat"],
  ])("sim - refuses %s with %s", async (_, task, code, parameter) => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    c.send([task]);
    expect(await c.errorFor(task.taskUUID)).toMatchObject({ code, parameter, taskType: task["taskType"], taskUUID: task.taskUUID });
  });

  it("sim - accepts every catalogued video and audio model and refuses a video model for imageInference", async () => {
    const sim = await start({ timeScale: FAST_SCALE });
    const c = await authed(sim);
    expect(VIDEO_MODELS).toEqual(["klingai:5@3", "google:3@3", "minimax:3@1"]);
    expect(AUDIO_MODELS).toEqual(["elevenlabs:1@1", "minimax:music@2.6"]);
    const tasks = [
      ...VIDEO_MODELS.map((model) => videoTask({ model, width: 1280, height: 720, duration: 8 })),
      ...AUDIO_MODELS.map((model) => audioTask({ model })),
    ];
    c.send(tasks);
    for (const t of tasks) expect((await pollUntilDone(c, t.taskUUID)).at(-1)!.data![0]!["status"]).toBe("success");
    const image = {
      taskType: "imageInference",
      taskUUID: randomUUID(),
      model: VIDEO_MODELS[0],
      positivePrompt: "a cat",
      width: 512,
      height: 512,
    };
    c.send([image]);
    expect(await c.errorFor(image.taskUUID)).toMatchObject({ code: "invalidModel", parameter: "model" });
  });
});
