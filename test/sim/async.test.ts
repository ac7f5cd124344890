import { describe, it, expect } from "vitest";
import { randomUUID } from "node:crypto";
import type { WsTestClient, Frame } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { hasError, imageTask, useSim } from "./harness.js";

/** Send getResponse for `taskUUID` and return the reply frame. */
async function poll(c: WsTestClient, taskUUID: string): Promise<Frame> {
  const from = c.mark();
  c.send([{ taskType: "getResponse", taskUUID }]);
  return c.waitFor((f) => [...(f.data ?? []), ...(f.errors ?? [])].some((x) => x["taskUUID"] === taskUUID), {
    from,
    what: `getResponse reply for ${taskUUID}`,
  });
}

describe("sim - async delivery and getResponse", () => {
  const { start, connect, authed } = useSim();

  it("sim - acknowledges an async task at once and does not push its results", async () => {
    const sim = await start({ workMs: 30 });
    const c = await authed(sim);
    const task = imageTask({ deliveryMethod: "async", numberResults: 2 });
    c.send([task]);
    const ack = await c.waitFor((f) => f.data?.[0]?.["taskUUID"] === task.taskUUID);
    expect(ack).toEqual({ data: [{ taskType: "imageInference", taskUUID: task.taskUUID }] });
    await waitFor(() => sim.counters.outstanding === 0, "the task to finish");
    expect(c.items(task.taskUUID)).toHaveLength(1); // still only the ack
  });

  it("sim - includes status processing in the ack when asyncAckStatus is set", async () => {
    const sim = await start({ asyncAckStatus: true });
    const c = await authed(sim);
    const task = imageTask({ deliveryMethod: "async" });
    c.send([task]);
    const ack = await c.waitFor((f) => f.data?.[0]?.["taskUUID"] === task.taskUUID);
    expect(ack.data![0]).toEqual({ taskType: "imageInference", taskUUID: task.taskUUID, status: "processing" });
  });

  it("sim - getResponse returns every generation, processing then success, under the original taskType", async () => {
    const sim = await start({ workMs: 300, split: "single" });
    const c = await authed(sim);
    const task = imageTask({ deliveryMethod: "async", numberResults: 3, includeCost: true });
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1);
    const early = await poll(c, task.taskUUID);
    expect(early).toEqual({
      data: Array.from({ length: 3 }, () => ({ taskType: "imageInference", taskUUID: task.taskUUID, status: "processing" })),
    });

    await waitFor(() => sim.counters.outstanding === 0, "the task to finish");
    const done = await poll(c, task.taskUUID);
    expect(done.errors).toBeUndefined();
    expect(done.data).toHaveLength(3);
    for (const item of done.data!) {
      expect(item).toMatchObject({ taskType: "imageInference", taskUUID: task.taskUUID, status: "success", cost: expect.any(Number) });
      expect(item["imageURL"]).toContain(item["imageUUID"]);
    }
    // the same answer every time: the full state, not a queue
    expect((await poll(c, task.taskUUID)).data).toEqual(done.data);
    expect(sim.counters.getResponses[task.taskUUID]).toBe(3);
  });

  it("sim - reports failed generations as top-level errors with status error (asyncErrorForm top)", async () => {
    const sim = await start({ asyncErrorForm: "top" });
    sim.injectErrors({ code: "timeoutProvider", count: 1 });
    const c = await authed(sim);
    const task = imageTask({ deliveryMethod: "async", numberResults: 2 });
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1); // the ack
    await waitFor(() => sim.counters.outstanding === 0, "the task to fail");
    const reply = await poll(c, task.taskUUID);
    expect(reply.data).toBeUndefined();
    expect(reply.errors).toHaveLength(2);
    expect(reply.errors![0]).toEqual({
      code: "timeoutProvider",
      message: expect.any(String),
      status: "error",
      taskType: "imageInference",
      taskUUID: task.taskUUID,
    });
  });

  it("sim - reports failed generations as data items with an embedded error (asyncErrorForm item)", async () => {
    const sim = await start({ asyncErrorForm: "item" });
    sim.injectErrors({ code: "providerRateLimitExceeded", count: 1 });
    const c = await authed(sim);
    const task = imageTask({ deliveryMethod: "async" });
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1); // the ack
    await waitFor(() => sim.counters.outstanding === 0, "the task to fail");
    const reply = await poll(c, task.taskUUID);
    expect(reply.errors).toBeUndefined();
    expect(reply.data).toEqual([
      {
        taskType: "imageInference",
        taskUUID: task.taskUUID,
        status: "error",
        error: { code: "providerRateLimitExceeded", message: expect.any(String) },
      },
    ]);
  });

  it("sim - answers an async validation failure with an error instead of an ack", async () => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask({ deliveryMethod: "async", steps: 500 });
    c.send([task]);
    expect((await c.errorFor(task.taskUUID))["code"]).toBe("invalidSteps");
    expect(c.items(task.taskUUID)).toEqual([]);
    // and getResponse reports the same failure
    expect((await poll(c, task.taskUUID)).errors?.[0]).toMatchObject({ code: "invalidSteps", status: "error" });
  });

  it("sim - getResponse also answers for a retained sync task", async () => {
    const sim = await start();
    const c = await authed(sim);
    const task = imageTask({ numberResults: 2 });
    c.send([task]);
    const pushed = await c.itemsFor(task.taskUUID, 2);
    const reply = await poll(c, task.taskUUID);
    expect(reply.data!.map((i) => String(i["imageUUID"])).sort()).toEqual(pushed.map((i) => String(i["imageUUID"])).sort());
    expect(reply.data!.every((i) => i["status"] === "success")).toBe(true);
  });

  it("sim - answers taskNotFound for an unknown taskUUID, and after retention expired", async () => {
    const sim = await start({ taskRetentionMs: 50 });
    const c = await authed(sim);
    const unknown = randomUUID();
    expect((await poll(c, unknown)).errors).toEqual([
      { code: "taskNotFound", message: expect.any(String), parameter: "taskUUID", taskType: "getResponse", taskUUID: unknown },
    ]);
    const task = imageTask();
    c.send([task]);
    await c.itemsFor(task.taskUUID, 1);
    expect((await poll(c, task.taskUUID)).data?.[0]?.["status"]).toBe("success");
    await waitFor(async () => (await poll(c, task.taskUUID)).errors?.[0]?.["code"] === "taskNotFound", "the task to expire");
  });

  it("sim - getResponse needs an authenticated connection and a taskUUID", async () => {
    const sim = await start();
    const c = await connect(sim);
    const taskUUID = randomUUID();
    c.send([{ taskType: "getResponse", taskUUID }]);
    const unauthed = await c.waitFor(hasError("missingApiKey"));
    expect(unauthed.errors).toEqual([{ code: "missingApiKey", message: expect.any(String), taskType: "getResponse", taskUUID }]);
    await c.authenticate();
    const from = c.mark();
    c.send([{ taskType: "getResponse" }]);
    const noUuid = await c.waitFor(hasError("missingTaskUUID"), { from });
    expect(noUuid.errors).toEqual([expect.objectContaining({ code: "missingTaskUUID", taskType: "getResponse" })]);
  });
});
