/**
 * The task types the simulator learned in issue 13 (uploads, image tools, text, account,
 * modelUpload), each through a real daemon on every local path (HTTP, NDJSON, the local WebSocket,
 * the Node client), in Runware's shapes (docs/protocol.md §8).
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { startRig, streamTasks, UUID_V4 } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { answerVia, LOCAL_PATHS } from "../helpers/paths.js";
import type { Obj } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const PNG_8 = "data:image/png;base64,iVBORw0KGgo=";
const task = (taskType: string, fields: Obj = {}): Obj & { taskUUID: string } => ({ taskType, taskUUID: randomUUID(), ...fields });

function modelUpload(fields: Obj = {}): Obj & { taskUUID: string } {
  return task("modelUpload", {
    category: "lora",
    architecture: "flux1d",
    format: "safetensors",
    name: "my style",
    version: "1.0",
    downloadURL: "https://example.invalid/my-style.safetensors",
    air: "mine:7@1",
    ...fields,
  });
}

describe("task types - uploads, tools, text, account, modelUpload through every local path", () => {
  it("imageUpload - its imageUUID is a later task's seedImage on every local path; an unknown UUID is refused naming seedImage", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const up = await answerVia(path, rig, [task("imageUpload", { image: PNG_8 })]);
      expect(up.errors, path).toEqual([]);
      expect(up.data[0], path).toMatchObject({
        imageUUID: expect.stringMatching(UUID_V4),
        imageURL: expect.stringMatching(/^http:.*\.png$/),
      });
      const seeded = imageTask({ taskUUID: randomUUID(), seedImage: up.data[0]!["imageUUID"] });
      const ok = await answerVia(path, rig, [seeded]);
      expect(ok.errors, path).toEqual([]);
      expect(ok.data[0], path).toMatchObject({ taskUUID: seeded["taskUUID"], imageURL: expect.stringMatching(/^http:/) });
      const unknown = imageTask({ taskUUID: randomUUID(), seedImage: randomUUID() });
      const bad = await answerVia(path, rig, [unknown]);
      expect(bad.data, path).toEqual([]);
      expect(bad.errors[0], path).toMatchObject({ code: "invalidSeedImage", parameter: "seedImage", taskUUID: unknown["taskUUID"] });
    }
  });

  it("mediaStorage - upload answers mediaUUID and mediaURL, delete forgets it, on every local path", async () => {
    const rig = await startRig(cleanup);
    const mp3 = Buffer.concat([Buffer.from("ID3"), Buffer.alloc(29)]).toString("base64");
    for (const path of LOCAL_PATHS) {
      const up = await answerVia(path, rig, [task("mediaStorage", { operation: "upload", media: mp3 })]);
      expect(up.errors, path).toEqual([]);
      const mediaUUID = up.data[0]?.["mediaUUID"];
      expect(up.data[0], path).toMatchObject({
        operation: "upload",
        mediaUUID: expect.stringMatching(UUID_V4),
        mediaURL: expect.stringMatching(/\.mp3$/),
      });
      const del = await answerVia(path, rig, [task("mediaStorage", { operation: "delete", mediaUUID })]);
      expect(del.data[0], path).toMatchObject({ operation: "delete", mediaUUID });
      const again = await answerVia(path, rig, [task("mediaStorage", { operation: "delete", mediaUUID })]);
      expect(again.errors[0], path).toMatchObject({ code: "invalidMediaUUID", parameter: "mediaUUID" });
    }
  });

  it("image tools - upscale, removeBackground and caption of a generated image on every local path", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const made = await answerVia(path, rig, [imageTask({ taskUUID: randomUUID(), positivePrompt: "a red bicycle" })]);
      const inputImage = made.data[0]!["imageUUID"];
      const up = task("upscale", { inputImage, upscaleFactor: 2 });
      const bg = task("removeBackground", { inputImage });
      const cap = task("caption", { inputImage });
      const a = await answerVia(path, rig, [up, bg, cap]);
      expect(a.errors, path).toEqual([]);
      const of = (t: Obj) => a.data.find((d) => d["taskUUID"] === t["taskUUID"]);
      expect(of(up), path).toMatchObject({ taskType: "upscale", inputImageUUID: inputImage, imageURL: expect.stringMatching(/^http:/) });
      expect(of(bg), path).toMatchObject({
        taskType: "removeBackground",
        inputImageUUID: inputImage,
        imageUUID: expect.stringMatching(UUID_V4),
      });
      expect(of(cap), path).toMatchObject({ taskType: "caption", text: "a picture of a red bicycle" });
    }
  });

  it("textInference - numberResults 3 gives three texts under one taskUUID on every local path", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const t = task("textInference", {
        model: "openai:gpt@5-mini",
        messages: [{ role: "user", content: "Name a colour." }],
        numberResults: 3,
      });
      const a = await answerVia(path, rig, [t], { items: 3 });
      expect(a.errors, path).toEqual([]);
      expect(a.data, path).toHaveLength(3);
      for (const d of a.data)
        expect(d, path).toMatchObject({ taskUUID: t.taskUUID, text: expect.stringContaining("Name a colour."), finishReason: "stop" });
    }
  });

  it("accountManagement - getDetails reports the balance, lowered by the work done, on every local path", async () => {
    const rig = await startRig(cleanup);
    let last = Infinity;
    for (const path of LOCAL_PATHS) {
      await answerVia(path, rig, [imageTask({ taskUUID: randomUUID() })]);
      const a = await answerVia(path, rig, [task("accountManagement", { operation: "getDetails" })]);
      expect(a.errors, path).toEqual([]);
      const balance = a.data[0]?.["balance"] as Obj | undefined;
      expect(balance, path).toMatchObject({ amount: expect.any(Number), currency: "USD" });
      expect(Number(balance!["amount"]), path).toBeLessThan(last);
      last = Number(balance!["amount"]);
    }
  });

  it("modelUpload - every status reaches the caller and ready ends it; a failure status ends it failed, on every local path", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const ok = modelUpload();
      const a = await answerVia(path, rig, [ok], { items: 5 });
      expect(a.errors, path).toEqual([]);
      expect(
        a.data.map((d) => d["status"]),
        path,
      ).toEqual(["validated", "downloaded", "optimized", "stored", "ready"]);
      rig.sim.failModelUploads({ status: "error downloading", message: "the download URL answered 404" });
      const failing = modelUpload();
      const f = await answerVia(path, rig, [failing], { items: 2 });
      expect(f.errors[0], path).toMatchObject({
        code: "taskStatusFailed",
        taskUUID: failing.taskUUID,
        message: expect.stringContaining("error downloading"),
      });
    }
  });

  it("modelUpload - a connection cut mid-upload is recovered by session resume: every status once, sent once", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 400 } });
    const up = modelUpload();
    const stream = streamTasks(rig.socketPath, [up]);
    await waitFor(
      () => stream.lines.some((l) => ((l.value["data"] as Obj[] | undefined) ?? []).some((d) => d["status"] === "validated")),
      "the first status",
    );
    rig.sim.cutAll();
    const lines = await stream.ended;
    const statuses = lines.flatMap((l) => ((l.value["data"] as Obj[] | undefined) ?? []).map((d) => d["status"]));
    expect(statuses).toEqual(["validated", "downloaded", "optimized", "stored", "ready"]);
    expect(lines.at(-1)?.value["done"]).toBe(true);
    expect(rig.sim.counters.received[up.taskUUID]).toBe(1);
    expect(rig.sim.counters.auths.some((a) => a.resumed)).toBe(true);
    expect(rig.sim.counters.getResponses[up.taskUUID] ?? 0).toBe(0);
  });
});
