import { describe, it, expect } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { imageTask, useSim } from "./harness.js";

describe("sim - sessions and the resume buffer", () => {
  const { start, connect, taskRunning } = useSim();

  it("sim - resumes a session and delivers buffered results after a cut mid-task", async () => {
    const sim = await start({ workMs: 80, split: "each" });
    const { c1, session, task } = await taskRunning(sim, imageTask({ numberResults: 3 }));
    sim.cutAll();
    expect((await c1.closed).code).toBe(1006);
    await waitFor(() => sim.counters.outstanding === 0, "the task to finish while disconnected");

    const c2 = await connect(sim);
    expect(await c2.authenticate("test-key", session)).toBe(session);
    const items = await c2.itemsFor(task.taskUUID, 3);
    expect(new Set(items.map((i) => i["imageUUID"])).size).toBe(3);
    // the auth reply comes first, then the buffered frames in order
    expect(c2.frames[0]!.data![0]!["taskType"]).toBe("authentication");
    expect(sim.counters.auths.at(-1)).toEqual({ sessionUUID: session, requestedSession: session, resumed: true });
    expect(sim.counters.received[task.taskUUID]).toBe(1);
  });

  it("sim - results produced while connected but not yet written survive the cut (latency in flight)", async () => {
    const sim = await start({ workMs: 50 });
    const { c1, session, task } = await taskRunning(sim);
    // the result will sit in the outbound queue for a long time: cut while it is there
    sim.setLatency(2_000);
    await waitFor(() => sim.counters.outstanding === 0, "the task to finish");
    sim.cutAll();
    await c1.closed;
    expect(c1.items(task.taskUUID)).toEqual([]);
    sim.setLatency(0);
    const c2 = await connect(sim);
    await c2.authenticate("test-key", session);
    await c2.itemsFor(task.taskUUID, 1);
  });

  it("sim - forgetSessions gives the next resume a fresh session and delivers nothing", async () => {
    const sim = await start({ workMs: 40 });
    const { c1, session, task } = await taskRunning(sim);
    sim.cutAll();
    await c1.closed;
    await waitFor(() => sim.counters.outstanding === 0, "the task to finish into the buffer");
    sim.forgetSessions();

    const c2 = await connect(sim);
    const fresh = await c2.authenticate("test-key", session);
    expect(fresh).not.toBe(session);
    expect(sim.counters.auths.at(-1)).toEqual({ sessionUUID: fresh, requestedSession: session, resumed: false });
    // nothing replayed: a ping round-trips after the auth reply, and still no item of the task
    c2.send([{ taskType: "ping", ping: true }]);
    await c2.waitFor((f) => f.data?.[0]?.["pong"] === true);
    expect(c2.items(task.taskUUID)).toEqual([]);
  });

  it("sim - expires a disconnected session after resumeBufferMs", async () => {
    const window = 60;
    const sim = await start({ resumeBufferMs: window });
    const c1 = await connect(sim);
    const session = await c1.authenticate();
    await c1.close();
    // within the window the session is resumable (this resume restarts the window when it closes)
    const c2 = await connect(sim);
    expect(await c2.authenticate("test-key", session)).toBe(session);
    await c2.close();
    // the expiry is the event under test: let the window pass untouched
    await new Promise((r) => setTimeout(r, window * 3));
    const c3 = await connect(sim);
    expect(await c3.authenticate("test-key", session)).not.toBe(session);
  });

  it("sim - resuming from a new connection detaches the old one, whose later tasks need auth again", async () => {
    // Long enough that the task is still running when c2 resumes, even on a loaded machine (at 60 ms
    // it could finish first and go to c1, which was still attached).
    const sim = await start({ workMs: 1_000 });
    const { c1, session, task } = await taskRunning(sim);
    const c2 = await connect(sim);
    expect(await c2.authenticate("test-key", session)).toBe(session);
    await c2.itemsFor(task.taskUUID, 1);
    expect(c1.items(task.taskUUID)).toEqual([]);
    expect(c1.isOpen).toBe(true);
    const late = imageTask();
    c1.send([late]);
    expect((await c1.errorFor(late.taskUUID))["code"]).toBe("missingApiKey");
  });

  it("sim - keeps tasks of a session running when its connection drops, without resubmission", async () => {
    const sim = await start({ workMs: 50 });
    const c1 = await connect(sim);
    await c1.authenticate();
    const tasks = [imageTask(), imageTask(), imageTask()];
    c1.send(tasks);
    await waitFor(() => sim.counters.outstanding === 3);
    await c1.close();
    await waitFor(() => sim.counters.outstanding === 0, "the tasks to finish");
    const c2 = await connect(sim);
    await c2.authenticate();
    for (const t of tasks) {
      const from = c2.mark();
      c2.send([{ taskType: "getResponse", taskUUID: t.taskUUID }]);
      const f = await c2.waitFor((fr) => fr.data?.[0]?.["taskUUID"] === t.taskUUID, { from });
      expect(f.data![0]!["status"]).toBe("success");
    }
  });
});
