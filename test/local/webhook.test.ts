/**
 * `webhookURL` (docs/protocol.md §3.3): Runware acknowledges over the socket and POSTs each result
 * to the URL. Through a real daemon and the simulator: the caller's answer is the acknowledgement,
 * the results reach the webhook, and a webhook the simulator will not post to is refused.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup } from "../helpers/cleanup.js";
import { postTasks, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { answerVia, LOCAL_PATHS } from "../helpers/paths.js";
import { waitFor } from "../helpers/wait.js";
import { webhookServer } from "../helpers/webhook.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("webhooks", () => {
  it("webhook - the caller's answer is Runware's acknowledgement; each result is POSTed to the webhook", async () => {
    const rig = await startRig(cleanup);
    const hook = await webhookServer(cleanup);
    const task = imageTask({ taskUUID: randomUUID(), numberResults: 3, webhookURL: hook.url });
    const res = await postTasks(rig.socketPath, [task]);
    expect(res.status).toBe(200);
    expect(res.json?.["errors"]).toBeUndefined();
    expect(res.json?.["data"]).toEqual([{ taskType: "imageInference", taskUUID: task.taskUUID }]);
    await waitFor(() => hook.received.length === 3, "three results at the webhook");
    for (const item of hook.received) expect(item).toMatchObject({ taskUUID: task.taskUUID, imageURL: expect.stringMatching(/^http:/) });
  });

  it("webhook - a video with a webhookURL is answered at Runware's acknowledgement and never polled; the video reaches the webhook", async () => {
    const rig = await startRig(cleanup, { sim: { timeScale: 0.002 } });
    const hook = await webhookServer(cleanup);
    const task = {
      taskType: "videoInference",
      taskUUID: randomUUID(),
      model: "klingai:5@3",
      positivePrompt: "waves on a beach",
      duration: 5,
      width: 1280,
      height: 720,
      webhookURL: hook.url,
    };
    const res = await postTasks(rig.socketPath, [task]);
    expect(res.json).toEqual({ data: [{ taskType: "videoInference", taskUUID: task.taskUUID }] });
    await waitFor(() => hook.received.length === 1, "the video at the webhook");
    expect(hook.received[0]).toMatchObject({ taskUUID: task.taskUUID, videoURL: expect.stringMatching(/^http:/) });
    expect(rig.sim.counters.pollsByTaskType["videoInference"] ?? 0).toBe(0);
    expect(rig.daemon.engine.stats().tasks.async).toBe(0);
  });

  it("webhook - every local path answers with the acknowledgement, and every result of every path reaches the webhook", async () => {
    const rig = await startRig(cleanup);
    const hook = await webhookServer(cleanup);
    const sent: string[] = [];
    for (const path of LOCAL_PATHS) {
      const task = imageTask({ taskUUID: randomUUID(), numberResults: 2, webhookURL: hook.url });
      sent.push(task.taskUUID as string);
      const answer = await answerVia(path, rig, [task]);
      expect(answer, path).toEqual({ data: [{ taskType: "imageInference", taskUUID: task.taskUUID }], errors: [] });
    }
    await waitFor(() => hook.received.length === 2 * LOCAL_PATHS.length, "two results per path at the webhook");
    for (const uuid of sent)
      expect(
        hook.received.filter((r) => r["taskUUID"] === uuid),
        uuid,
      ).toHaveLength(2);
  });

  it("webhook - a webhookURL off this machine is refused by the simulator, and the caller gets that error", async () => {
    const rig = await startRig(cleanup);
    const task = imageTask({ taskUUID: randomUUID(), webhookURL: "https://example.com/hook" });
    const res = await postTasks(rig.socketPath, [task]);
    expect(res.json?.["errors"]).toEqual([
      expect.objectContaining({ code: "invalidWebhookURL", taskUUID: task.taskUUID, parameter: "webhookURL" }),
    ]);
  });
});
