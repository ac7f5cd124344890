/**
 * `GET /v1/tasks/{taskUUID}` (docs/local-api.md §2.4): a task's state as it happens, `?wait=1`, the retention
 * window; and tasks that outlive the request that brought them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, openRequest, postTasks, request, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function taskState(socketPath: string, uuid: string): Promise<string | undefined> {
  const res = await getJson(socketPath, `/v1/tasks/${uuid}`);
  return res.status === 200 ? (res.json!["state"] as string) : undefined;
}

describe("local api - GET /v1/tasks/{uuid}", () => {
  it("local api - reports queued, then sent, then done, in the contract's shape", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 500 }, flags: { "max-in-flight": "1" } });
    const a = randomUUID();
    const b = randomUUID();
    const batch = postTasks(rig.socketPath, [imageTask({ taskUUID: a, numberResults: 2 }), imageTask({ taskUUID: b })]);
    await waitFor(() => rig.sim.counters.received[a] === 1, "the first task to reach the simulator");

    const first = await getJson(rig.socketPath, `/v1/tasks/${a}`);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ taskUUID: a, taskType: "imageInference", state: "sent", data: [], errors: [] });
    const second = await getJson(rig.socketPath, `/v1/tasks/${b}`);
    expect(second.json).toEqual({ taskUUID: b, taskType: "imageInference", state: "queued", data: [], errors: [] });

    // One slot: b is sent only once a is done.
    await waitFor(async () => (await taskState(rig.socketPath, a)) === "done", "the first task to be done");
    await waitFor(async () => (await taskState(rig.socketPath, b)) !== "queued", "the second task to leave the queue");
    expect(rig.sim.counters.received[b]).toBe(1);

    const done = await getJson(rig.socketPath, `/v1/tasks/${a}`);
    expect(done.json!["state"]).toBe("done");
    expect(done.json!["errors"]).toEqual([]);
    const items = done.json!["data"] as Array<Record<string, unknown>>;
    expect(items).toHaveLength(2);
    expect(items.every((d) => d["taskUUID"] === a && typeof d["imageURL"] === "string")).toBe(true);
    expect((await batch).status).toBe(200);
    expect(await taskState(rig.socketPath, b)).toBe("done");
  });

  it("local api - reports a task Runware refused as failed, with its error", async () => {
    const rig = await startRig(cleanup);
    const uuid = randomUUID();
    await postTasks(rig.socketPath, [imageTask({ taskUUID: uuid, width: 100 })]);
    const res = await getJson(rig.socketPath, `/v1/tasks/${uuid}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ taskUUID: uuid, taskType: "imageInference", state: "failed", data: [] });
    expect(res.json!["errors"]).toEqual([expect.objectContaining({ code: "invalidWidth", taskUUID: uuid })]);
  });

  it("local api - ?wait=1 holds the request until the task is final", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 300 } });
    const uuid = randomUUID();
    const post = postTasks(rig.socketPath, [imageTask({ taskUUID: uuid, numberResults: 3 })]);
    await waitFor(() => rig.sim.counters.received[uuid] === 1, "the task to reach the simulator");
    const waiting = getJson(rig.socketPath, `/v1/tasks/${uuid}?wait=1`);
    // Without wait the same task is still running.
    expect(await taskState(rig.socketPath, uuid)).toBe("sent");
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.json!["state"]).toBe("done");
    expect(res.json!["data"]).toHaveLength(3);
    expect((await post).json!["data"]).toHaveLength(3);
    // On a finished task it answers at once.
    const again = await getJson(rig.socketPath, `/v1/tasks/${uuid}?wait=1`);
    expect(again.json!["data"]).toHaveLength(3);
  });

  it("local api - answers 404 taskNotFound for an unknown taskUUID, with or without wait", async () => {
    const rig = await startRig(cleanup);
    const uuid = randomUUID();
    for (const path of [`/v1/tasks/${uuid}`, `/v1/tasks/${uuid}?wait=1`]) {
      const res = await getJson(rig.socketPath, path);
      expect(res.status).toBe(404);
      expect(res.json!["errors"]).toEqual([expect.objectContaining({ code: "taskNotFound", taskUUID: uuid })]);
    }
  });

  it("local api - answers 404 (not 500) for a malformed taskUUID in the path", async () => {
    const rig = await startRig(cleanup);
    for (const path of ["/v1/tasks/%zz", "/v1/tasks/%E0%A4%A?wait=1", "/v1/tasks/not-a-uuid"]) {
      const res = await getJson(rig.socketPath, path);
      expect(res.status, path).toBe(404);
      expect(res.json!["errors"]).toEqual([expect.objectContaining({ code: "taskNotFound" })]);
    }
  });

  it("local api - keeps a finished task readable within --result-retention-ms, and forgets it after", async () => {
    const retentionMs = 1_000;
    const rig = await startRig(cleanup, { flags: { "result-retention-ms": String(retentionMs) } });
    const uuid = randomUUID();
    expect((await postTasks(rig.socketPath, [imageTask({ taskUUID: uuid })])).status).toBe(200);
    const answeredAt = Date.now();
    const kept = await getJson(rig.socketPath, `/v1/tasks/${uuid}`);
    expect(kept.status).toBe(200);
    expect(kept.json!["state"]).toBe("done");
    await waitFor(async () => (await getJson(rig.socketPath, `/v1/tasks/${uuid}`)).status === 404, "the task to expire", retentionMs * 5);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(retentionMs * 0.8);
  });
});

describe("local api - tasks outlive their caller", () => {
  for (const ndjson of [false, true]) {
    it(`local api - a caller that disconnects mid-task (${ndjson ? "NDJSON" : "JSON"}): the task finishes and is readable later`, async () => {
      const rig = await startRig(cleanup, { sim: { workMs: 300 } });
      const uuid = randomUUID();
      const body = JSON.stringify([imageTask({ taskUUID: uuid, numberResults: 2 })]);
      const req = openRequest(rig.socketPath, "/v1", { method: "POST", body, headers: ndjson ? { accept: "application/x-ndjson" } : {} });
      req.on("error", () => undefined); // we are the ones hanging up
      req.end(body);
      await waitFor(() => rig.sim.counters.received[uuid] === 1, "the task to reach the simulator");
      req.destroy();
      expect(await taskState(rig.socketPath, uuid)).toBe("sent");

      const res = await getJson(rig.socketPath, `/v1/tasks/${uuid}?wait=1`);
      expect(res.json!["state"]).toBe("done");
      expect(res.json!["data"]).toHaveLength(2);
      expect(rig.sim.counters.received[uuid]).toBe(1);
      // The daemon is unharmed by the broken connection.
      expect((await request(rig.socketPath, "/v1/status")).status).toBe(200);
    });
  }
});
