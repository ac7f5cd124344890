/**
 * The task types the simulator has answered since before issue 13, each through a real daemon on
 * every local path (HTTP, NDJSON, the local WebSocket, the Node client): the caller gets every
 * item its kind yields (protocol/task-kinds.ts), in Runware's shape. Uploads, image tools, text,
 * account and modelUpload have their own files.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { startRig, UUID_V4 } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { answerVia, LOCAL_PATHS } from "../helpers/paths.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("task types - through every local path", () => {
  it("imageInference - numberResults 2 gives two images with distinct imageUUIDs on every local path", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const task = imageTask({ taskUUID: randomUUID(), numberResults: 2, includeCost: true });
      const a = await answerVia(path, rig, [task], { items: 2 });
      expect(a.errors, path).toEqual([]);
      expect(a.data, path).toHaveLength(2);
      for (const d of a.data)
        expect(d, path).toMatchObject({
          taskType: "imageInference",
          taskUUID: task.taskUUID,
          imageURL: expect.stringMatching(/^http:/),
          cost: expect.any(Number),
        });
      expect(new Set(a.data.map((d) => d["imageUUID"])).size, path).toBe(2);
    }
  });

  it("promptEnhance - promptVersions 3 gives three texts under one taskUUID on every local path", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const task = { taskType: "promptEnhance", taskUUID: randomUUID(), prompt: "a lighthouse at dusk", promptVersions: 3 };
      const a = await answerVia(path, rig, [task], { items: 3 });
      expect(a.errors, path).toEqual([]);
      expect(a.data, path).toHaveLength(3);
      for (const d of a.data) expect(d["text"], path).toMatch(/^a lighthouse at dusk, /);
    }
  });

  it("modelSearch - one page of the catalogue on every local path", async () => {
    const rig = await startRig(cleanup);
    for (const path of LOCAL_PATHS) {
      const task = { taskType: "modelSearch", taskUUID: randomUUID(), search: "flux", limit: 2 };
      const a = await answerVia(path, rig, [task]);
      expect(a.errors, path).toEqual([]);
      expect(a.data, path).toHaveLength(1);
      expect(a.data[0]?.["totalResults"], path).toBeGreaterThan(0);
      expect(a.data[0]?.["results"], path).toEqual(expect.any(Array));
      expect((a.data[0]!["results"] as unknown[]).length, path).toBeLessThanOrEqual(2);
    }
  });

  it("videoInference and audioInference - sent as simply as an image, answered with their files on every local path", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    for (const path of LOCAL_PATHS) {
      const video = {
        taskType: "videoInference",
        taskUUID: randomUUID(),
        model: "klingai:5@3",
        positivePrompt: "waves on a beach",
        duration: 5,
        width: 1280,
        height: 720,
      };
      const audio = {
        taskType: "audioInference",
        taskUUID: randomUUID(),
        model: "elevenlabs:1@1",
        positivePrompt: "rain on a tin roof",
        duration: 10,
        numberResults: 2,
      };
      const a = await answerVia(path, rig, [video, audio], { items: { [audio.taskUUID]: 2 } });
      expect(a.errors, path).toEqual([]);
      const v = a.data.filter((d) => d["taskUUID"] === video.taskUUID);
      expect(v, path).toEqual([
        expect.objectContaining({ videoUUID: expect.stringMatching(UUID_V4), videoURL: expect.stringMatching(/\.mp4$/) }),
      ]);
      const audios = a.data.filter((d) => d["taskUUID"] === audio.taskUUID);
      expect(audios, path).toHaveLength(2);
      for (const d of audios) expect(d["audioURL"], path).toMatch(/\.mp3$/);
    }
  });
});
