import { describe, it, expect } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { imageTask, useSim, hasError } from "./harness.js";

const isPong = (f: { data?: Array<Record<string, unknown>> }) => f.data?.[0]?.["pong"] === true;

describe("sim - faults", () => {
  const { start, connect, authed, taskRunning } = useSim();

  it("sim - freeze stops pongs without closing; unfreeze delivers them", async () => {
    const sim = await start();
    const c = await authed(sim);
    sim.freeze();
    c.send([{ taskType: "ping", ping: true }]);
    await expect(c.waitFor(isPong, { timeoutMs: 150 })).rejects.toThrow(/timed out/);
    expect(c.isOpen).toBe(true);
    expect(sim.counters.open).toBe(1);
    sim.unfreeze();
    await c.waitFor(isPong);
  });

  it("sim - freeze holds task results too, and connections opened while frozen are frozen", async () => {
    const sim = await start();
    const c1 = await authed(sim);
    sim.freeze();
    const task = imageTask();
    c1.send([task]);
    const c2 = await connect(sim);
    c2.send([{ taskType: "ping", ping: true }]);
    await expect(c2.waitFor(isPong, { timeoutMs: 150 })).rejects.toThrow(/timed out/);
    expect(c1.items(task.taskUUID)).toEqual([]);
    expect(sim.counters.received).toEqual({});
    sim.unfreeze();
    await c2.waitFor(isPong);
    await c1.itemsFor(task.taskUUID, 1);
  });

  it("sim - a frozen connection's held results go to the session buffer when it is cut", async () => {
    const sim = await start({ workMs: 20 });
    const { c1, session, task } = await taskRunning(sim);
    sim.freeze();
    await waitFor(() => sim.counters.outstanding === 0, "the task to finish while frozen");
    sim.cutAll();
    await c1.closed;
    sim.unfreeze();
    const c2 = await connect(sim);
    expect(await c2.authenticate("test-key", session)).toBe(session);
    await c2.itemsFor(task.taskUUID, 1);
  });

  it("sim - idle close does not fire while frozen", async () => {
    const sim = await start({ idleCloseMs: 60 });
    const c = await connect(sim);
    sim.freeze();
    await new Promise((r) => setTimeout(r, 200));
    expect(c.isOpen).toBe(true);
    sim.unfreeze();
    expect((await c.closed).reason).toBe("idle timeout");
  });

  it("sim - injectErrors with count fails exactly the next N tasks with that code", async () => {
    const sim = await start();
    sim.injectErrors({ code: "timeoutProvider", count: 2 });
    const c = await authed(sim);
    const tasks = [imageTask(), imageTask(), imageTask()];
    for (const t of tasks) c.send([t]);
    for (const t of tasks.slice(0, 2)) {
      expect(await c.errorFor(t.taskUUID)).toEqual({
        code: "timeoutProvider",
        message: expect.any(String),
        taskType: "imageInference",
        taskUUID: t.taskUUID,
      });
    }
    await c.itemsFor(tasks[2]!.taskUUID, 1);
    expect(c.items(tasks[0]!.taskUUID)).toEqual([]);
  });

  it("sim - injectErrors with rate fails about that share of tasks, only of the given task types", async () => {
    const sim = await start({ seed: 42 });
    sim.injectErrors({ code: "providerRateLimitExceeded", rate: 0.5, taskTypes: ["imageInference"] });
    const c = await authed(sim);
    const tasks = Array.from({ length: 60 }, () => imageTask());
    c.send(tasks);
    const search = { taskType: "modelSearch", taskUUID: crypto.randomUUID() };
    c.send([search]);
    await waitFor(() => tasks.every((t) => c.items(t.taskUUID).length + c.errors(t.taskUUID).length === 1), "every task to settle");
    const failed = tasks.filter((t) => c.errors(t.taskUUID)[0]?.["code"] === "providerRateLimitExceeded").length;
    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(45);
    await c.itemsFor(search.taskUUID, 1);

    sim.clearErrors();
    const after = Array.from({ length: 10 }, () => imageTask());
    c.send(after);
    for (const t of after) await c.itemsFor(t.taskUUID, 1);
    expect(after.every((t) => c.errors(t.taskUUID).length === 0)).toBe(true);
  });

  it("sim - sendGarbage writes a non-JSON text frame to every connection, which stay usable", async () => {
    const sim = await start();
    const c1 = await authed(sim);
    const c2 = await connect(sim);
    sim.sendGarbage();
    sim.sendGarbage("{{{nope");
    await c1.waitForMany((f) => f.raw !== undefined, 2);
    const [g1, g2] = await c2.waitForMany((f) => f.raw !== undefined, 2);
    expect(() => JSON.parse(g1!.raw!)).toThrow();
    expect(g2!.raw).toBe("{{{nope");
    expect(sim.counters.garbageSent).toBe(4);
    const t = imageTask();
    c1.send([t]);
    await c1.itemsFor(t.taskUUID, 1);
  });

  it("sim - latency delays every frame one way in each direction, keeping order", async () => {
    const sim = await start({ latencyMs: 100 });
    const c = await connect(sim);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) c.send([{ taskType: "ping", ping: true }]);
    c.send([imageTask({ taskUUID: "00000000-0000-4000-8000-000000000001" })]);
    await c.waitForMany(isPong, 5);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    // the missingApiKey error came after all five pongs: order kept
    await c.waitFor(hasError("missingApiKey"));
    expect(c.frames.findIndex((f) => f.errors !== undefined)).toBe(5);
    sim.setLatency(0);
    const t1 = performance.now();
    c.send([{ taskType: "ping", ping: true }]);
    await c.waitForMany(isPong, 6);
    expect(performance.now() - t1).toBeLessThan(150);
  });

  it("sim - cutAll terminates every connection (1006)", async () => {
    const sim = await start();
    const c1 = await authed(sim);
    const c2 = await connect(sim);
    sim.cutAll();
    expect((await c1.closed).code).toBe(1006);
    expect((await c2.closed).code).toBe(1006);
    await waitFor(() => sim.counters.open === 0);
    expect(sim.counters.connections).toBe(2);
  });
});
