/**
 * The task engine against the real simulator over loopback sockets: multiplexing, routing, retries,
 * async polling, and recovery after faults. Each test ends with the leak check.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { SimServer } from "../../src/sim/index.js";
import type { TaskOutcome } from "../../src/upstream/task.js";
import { imageTask, startEngine, until, type TestEngine } from "../helpers/engine.js";

let sim: SimServer | undefined;
let te: TestEngine | undefined;

afterEach(async () => {
  try {
    if (te) await te.closeAndCheck();
  } finally {
    te = undefined;
    await sim?.close();
    sim = undefined;
  }
});

function received(s: SimServer, uuid: string): number {
  return s.counters.received[uuid] ?? 0;
}

function ids(o: TaskOutcome): string[] {
  return o.data.map((d) => String(d["imageUUID"]));
}

describe("engine - multiplexing", () => {
  it("engine - delivers every numberResults item, spread over frames, and settles done once", async () => {
    sim = await SimServer.start({ split: "each" });
    te = startEngine(sim.url);
    const h = te.engine.submit(imageTask({ numberResults: 4 }));
    const seen: string[] = [];
    h.subscribe((ev) => {
      if (ev.type === "data") seen.push(String(ev.item["imageUUID"]));
    });
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(out.errors).toEqual([]);
    expect(new Set(ids(out)).size).toBe(4);
    expect(seen).toEqual(ids(out));
    expect(out.data.every((d) => d["taskUUID"] === h.taskUUID && d["taskType"] === "imageInference")).toBe(true);
    expect(te.engine.stats().tasks.completed).toBe(1);
  });

  it("engine - routes results of many tasks mixed in the same frames to their own task", async () => {
    sim = await SimServer.start({ coalesceMs: 5, split: "random" });
    te = startEngine(sim.url, { maxInFlight: 16 });
    const handles = Array.from({ length: 16 }, (_, i) =>
      te!.engine.submit(imageTask({ numberResults: 1 + (i % 3), positivePrompt: `prompt ${i}` })),
    );
    const outs = await Promise.all(handles.map((h) => h.done));
    outs.forEach((o, i) => {
      expect(o.state).toBe("done");
      expect(o.data).toHaveLength(1 + (i % 3));
      expect(o.data.every((d) => d["taskUUID"] === handles[i]!.taskUUID)).toBe(true);
    });
  });

  it("engine - 2,000 tasks never exceed maxInFlight upstream, and a second submitter is not starved", async () => {
    sim = await SimServer.start({ workMs: 1 });
    te = startEngine(sim.url, { maxInFlight: 8 });
    const order: string[] = [];
    te.engine.on("settled", (o) => order.push(o.taskUUID));
    const bulk = Array.from({ length: 2_000 }, () => te!.engine.submit(imageTask(), { client: "bulk" }));
    const single = te.engine.submit(imageTask(), { client: "other" });
    await Promise.all([...bulk, single].map((h) => h.done));
    expect(sim.counters.maxOutstanding).toBeLessThanOrEqual(8);
    expect(sim.counters.maxOutstanding).toBeGreaterThan(1);
    // Round-robin: the lone task goes out with the first wave, not after 2,000 others.
    expect(order.indexOf(single.taskUUID)).toBeLessThan(32);
    expect(Object.keys(sim.counters.received)).toHaveLength(2_001);
  });

  it("engine - backpressure: past the high-water mark it waits for the socket, then carries on", async () => {
    sim = await SimServer.start({ workMs: 1 });
    // A 1-byte mark: every frame after the first waits for the previous one to be written.
    te = startEngine(sim.url, { maxInFlight: 4, sendHighWaterBytes: 1 });
    const big = "x".repeat(64 * 1024);
    const hs = Array.from({ length: 40 }, (_, i) => te!.engine.submit(imageTask({ positivePrompt: `${i} ${big}`.slice(0, 2_900) })));
    const outs = await Promise.all(hs.map((h) => h.done));
    expect(outs.every((o) => o.state === "done")).toBe(true);
    expect(Object.keys(sim.counters.received)).toHaveLength(40);
  });

  it("engine - a full queue refuses the submit with queueFull and drops nothing", async () => {
    sim = await SimServer.start({ workMs: 50 });
    te = startEngine(sim.url, { maxInFlight: 1, maxQueued: 2 });
    const accepted = [te.engine.submit(imageTask()), te.engine.submit(imageTask())];
    expect(() => te!.engine.submit(imageTask())).toThrowError(expect.objectContaining({ code: "queueFull" }));
    const outs = await Promise.all(accepted.map((h) => h.done));
    expect(outs.map((o) => o.state)).toEqual(["done", "done"]);
  });

  it("engine - a taskUUID already pending is refused with conflictTaskUUID", async () => {
    sim = await SimServer.start({ workMs: 30 });
    te = startEngine(sim.url);
    const uuid = randomUUID();
    const first = te.engine.submit(imageTask({ taskUUID: uuid }));
    expect(() => te!.engine.submit(imageTask({ taskUUID: uuid }))).toThrowError(expect.objectContaining({ code: "conflictTaskUUID" }));
    expect((await first.done).state).toBe("done");
  });
});

describe("engine - errors", () => {
  it("engine - a conflictTaskUUID on a first submit fetches the results Runware already has, never reruns", async () => {
    sim = await SimServer.start({ workMs: 60 });
    const uuid = randomUUID();
    // An earlier daemon sent the task and went away before its results came back.
    const earlier = startEngine(sim.url);
    const first = earlier.engine.submit(imageTask({ taskUUID: uuid, numberResults: 2 }));
    await until(() => sim!.counters.outstanding === 1, 5_000, "the task running upstream");
    await earlier.engine.close("earlier daemon stopped");
    expect((await first.done).state).toBe("in-doubt");
    // A new daemon is asked for the same UUID (a resumed batch): Runware says conflict; we poll.
    te = startEngine(sim.url);
    const out = await te.engine.submit(imageTask({ taskUUID: uuid, numberResults: 2 })).done;
    expect(out.state).toBe("done");
    expect(new Set(ids(out)).size).toBe(2);
    expect(sim.counters.conflicts).toBe(1);
    expect(sim.counters.getResponses[uuid]).toBeGreaterThanOrEqual(1);
    expect(sim.counters.maxOutstanding).toBe(1); // it ran once
  });

  it("engine - retries a transient error under the same taskUUID until it succeeds", async () => {
    sim = await SimServer.start();
    sim.injectErrors({ code: "timeoutProvider", count: 2 });
    te = startEngine(sim.url);
    const h = te.engine.submit(imageTask());
    const retried: string[] = [];
    h.subscribe((ev) => {
      if (ev.type === "error" && ev.retrying) retried.push(ev.error.code);
    });
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(retried).toEqual(["timeoutProvider", "timeoutProvider"]);
    expect(received(sim, h.taskUUID)).toBe(3);
    expect(Object.keys(sim.counters.received)).toEqual([h.taskUUID]);
  });

  it("engine - gives up after maxTaskRetries transient errors and reports them", async () => {
    sim = await SimServer.start();
    sim.injectErrors({ code: "providerRateLimitExceeded", count: 10 });
    te = startEngine(sim.url, { maxTaskRetries: 2 });
    const out = await te.engine.submit(imageTask()).done;
    expect(out.state).toBe("failed");
    expect(out.errors[0]?.code).toBe("providerRateLimitExceeded");
    expect(received(sim, out.taskUUID)).toBe(3);
  });

  it("engine - a permanent error fails the task at once and touches no other task", async () => {
    sim = await SimServer.start();
    te = startEngine(sim.url);
    const bad = te.engine.submit(imageTask({ width: 500 }));
    const good = te.engine.submit(imageTask());
    const [b, g] = await Promise.all([bad.done, good.done]);
    expect(b.state).toBe("failed");
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0]).toMatchObject({ code: expect.stringMatching(/^invalid/), taskUUID: bad.taskUUID, taskType: "imageInference" });
    expect(received(sim, bad.taskUUID)).toBe(1);
    expect(g.state).toBe("done");
    expect(g.errors).toEqual([]);
  });

  it("engine - garbage frames from upstream are ignored and tasks still complete", async () => {
    sim = await SimServer.start({ workMs: 40 });
    te = startEngine(sim.url);
    await until(() => te!.engine.stats().upstream.state === "ready");
    const h = te.engine.submit(imageTask({ numberResults: 2 }));
    sim.sendGarbage();
    sim.sendGarbage("{not json");
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(te.connection.garbageFrames).toBeGreaterThanOrEqual(2);
    expect(te.engine.stats().upstream.reconnects).toBe(0);
  });

  it("engine - a task that outlives its deadline ends with taskTimeout and its partial results", async () => {
    sim = await SimServer.start({ workMs: 5_000 });
    te = startEngine(sim.url, { taskTimeoutMs: 80 });
    const out = await te.engine.submit(imageTask()).done;
    expect(out.state).toBe("failed");
    expect(out.errors[0]?.code).toBe("taskTimeout");
  });
});

describe("engine - async delivery", () => {
  it("engine - acknowledges an async task, polls getResponse, and delivers every item once", async () => {
    sim = await SimServer.start({ workMs: 60 });
    te = startEngine(sim.url);
    const h = te.engine.submit(imageTask({ numberResults: 3, deliveryMethod: "async" }));
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(new Set(ids(out)).size).toBe(3);
    expect(out.data.every((d) => d["status"] === "success")).toBe(true);
    expect(sim.counters.getResponses[h.taskUUID]).toBeGreaterThanOrEqual(1);
    expect(received(sim, h.taskUUID)).toBe(1);
  });

  it("engine - an async failure reported inside data (item form) fails the task", async () => {
    sim = await SimServer.start({ workMs: 20, asyncErrorForm: "item" });
    sim.injectErrors({ code: "invalidModel", count: 1 });
    te = startEngine(sim.url);
    const out = await te.engine.submit(imageTask({ deliveryMethod: "async" })).done;
    expect(out.state).toBe("failed");
    expect(out.errors[0]?.code).toBe("invalidModel");
  });
});

describe("engine - connection faults", () => {
  it("reconnect - resumes the session and delivers buffered results without resending", async () => {
    sim = await SimServer.start({ workMs: 150 });
    te = startEngine(sim.url);
    const hs = Array.from({ length: 4 }, () => te!.engine.submit(imageTask({ numberResults: 2 })));
    await until(() => sim!.counters.outstanding === 4, 5_000, "4 tasks running upstream");
    sim.cutAll();
    const outs = await Promise.all(hs.map((h) => h.done));
    expect(outs.map((o) => o.state)).toEqual(["done", "done", "done", "done"]);
    for (const o of outs) {
      expect(new Set(ids(o)).size).toBe(2);
      expect(received(sim, o.taskUUID)).toBe(1);
    }
    const auths = sim.counters.auths;
    expect(auths.length).toBeGreaterThanOrEqual(2);
    expect(auths[1]).toMatchObject({ resumed: true, sessionUUID: auths[0]!.sessionUUID });
    expect(te.engine.stats().upstream.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("reconnect - without resume, resends under the same UUID and polls on conflictTaskUUID", async () => {
    sim = await SimServer.start({ workMs: 150 });
    te = startEngine(sim.url);
    const hs = Array.from({ length: 3 }, () => te!.engine.submit(imageTask({ numberResults: 2 })));
    await until(() => sim!.counters.outstanding === 3, 5_000, "3 tasks running upstream");
    sim.forgetSessions();
    sim.cutAll();
    const outs = await Promise.all(hs.map((h) => h.done));
    expect(outs.map((o) => o.state)).toEqual(["done", "done", "done"]);
    const submitted = new Set(hs.map((h) => h.taskUUID));
    for (const o of outs) {
      expect(new Set(ids(o)).size).toBe(2);
      expect(received(sim, o.taskUUID)).toBe(2); // the original and one same-UUID resend
    }
    // Never a new UUID: everything Runware saw is one of ours.
    expect(Object.keys(sim.counters.received).every((u) => submitted.has(u))).toBe(true);
    expect(sim.counters.conflicts).toBeGreaterThanOrEqual(3);
    expect(sim.counters.auths[1]?.resumed).toBe(false);
  });

  it("heartbeat - a frozen (half-open) link is detected within ping + 2 × pong and replaced", async () => {
    sim = await SimServer.start({ workMs: 20 });
    te = startEngine(sim.url, { pingIntervalMs: 60, pongTimeoutMs: 40, maxMissedPongs: 2 });
    await until(() => te!.engine.stats().upstream.state === "ready");
    const frozenAt = Date.now();
    sim.freeze();
    let downAt = 0;
    te.engine.on("state", (to) => {
      if (to === "backoff" && !downAt) downAt = Date.now();
    });
    await until(() => downAt > 0, 3_000, "the stale link to be dropped");
    // Bound: 60 + 2 × 40 = 140 ms after the last frame; allow scheduling slack on a busy box.
    expect(downAt - frozenAt).toBeLessThan(140 + 400);
    sim.unfreeze();
    const out = await te.engine.submit(imageTask()).done;
    expect(out.state).toBe("done");
    expect(sim.counters.connections).toBeGreaterThanOrEqual(2);
  });

  it("auth - slow and failing authentications are retried until the link is ready", async () => {
    sim = await SimServer.start();
    sim.failNextAuths(2, "drop");
    te = startEngine(sim.url);
    const h = te.engine.submit(imageTask());
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(sim.counters.connections).toBeGreaterThanOrEqual(3);
    // Slow auth: longer than authTimeoutMs (300 ms) → the engine gives up on that dial and redials.
    const reasons: string[] = [];
    te.engine.on("state", (to, _from, reason) => {
      if (to === "backoff") reasons.push(reason);
    });
    sim.setAuthDelay(1_000);
    sim.cutAll();
    await until(() => reasons.some((r) => r.includes("no authentication reply")), 5_000, "an auth timeout");
    expect(te.engine.stats().upstream.lastError).toContain("no authentication reply");
    sim.setAuthDelay(0);
    expect((await te.engine.submit(imageTask()).done).state).toBe("done");
  });

  it("auth - an invalid key stops reconnecting and fails waiting and new tasks with invalidApiKey", async () => {
    sim = await SimServer.start({ rejectedKeys: ["test-key"] });
    te = startEngine(sim.url);
    const waiting = te.engine.submit(imageTask());
    const out = await waiting.done;
    expect(out.state).toBe("failed");
    expect(out.errors[0]?.code).toBe("invalidApiKey");
    expect(te.engine.stats().upstream.state).toBe("auth-failed");
    const later = await te.engine.submit(imageTask()).done;
    expect(later.errors[0]?.code).toBe("invalidApiKey");
    const connections = sim.counters.connections;
    await new Promise((r) => setTimeout(r, 100)); // several backoff periods: no redial may happen
    expect(sim.counters.connections).toBe(connections);
    expect(JSON.stringify(te.engine.stats())).not.toContain("test-key");
  });

  it("reconnect - frames past the far end's message limit (1009) are resent in smaller frames: all done, none in doubt", async () => {
    sim = await SimServer.start({ maxMessageBytes: 100 * 1024 });
    te = startEngine(sim.url, { maxFrameBytes: 1024 * 1024, maxInFlight: 8 });
    await until(() => te!.engine.stats().upstream.state === "ready");
    const padding = "x".repeat(39_000); // four tasks pass the 100 KB limit together, one alone does not
    const hs = Array.from({ length: 4 }, () => te!.engine.submit(imageTask({ padding })));
    const outs = await Promise.all(hs.map((h) => h.done));
    expect(outs.map((o) => o.state)).toEqual(["done", "done", "done", "done"]);
    expect(te.engine.stats().upstream.reconnects).toBeGreaterThanOrEqual(1);
    for (const h of hs) expect(sim.counters.received[h.taskUUID]).toBe(1); // each reached Runware once
  });

  it("reconnect - under random cuts no task is lost, duplicated, hung or sent under a second UUID", async () => {
    sim = await SimServer.start({ workMs: 30, split: "random" });
    te = startEngine(sim.url, { maxInFlight: 16 });
    const hs = Array.from({ length: 300 }, (_, i) =>
      te!.engine.submit(imageTask({ numberResults: 1 + (i % 4), positivePrompt: `chaos ${i}` }), { client: `c${i % 3}` }),
    );
    let cuts = 0;
    const chaos = setInterval(() => {
      cuts++;
      if (cuts % 3 === 0) sim!.forgetSessions();
      sim!.cutAll();
    }, 40);
    let outs: TaskOutcome[];
    try {
      outs = await Promise.all(hs.map((h) => h.done));
    } finally {
      clearInterval(chaos);
    }
    expect(cuts).toBeGreaterThan(3);
    const submitted = new Set(hs.map((h) => h.taskUUID));
    outs.forEach((o, i) => {
      expect(o.state, `task ${i}: ${JSON.stringify(o.errors)}`).toBe("done");
      expect(new Set(ids(o)).size).toBe(1 + (i % 4));
      expect(o.data).toHaveLength(1 + (i % 4));
    });
    expect(Object.keys(sim.counters.received).every((u) => submitted.has(u))).toBe(true);
    expect(sim.counters.maxOutstanding).toBeLessThanOrEqual(16);
  });
});
