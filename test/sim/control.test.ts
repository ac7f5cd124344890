import { describe, it, expect } from "vitest";
import type { SimServer, SimCounters } from "../../src/sim/index.js";
import { waitFor } from "../helpers/wait.js";
import { imageTask, useSim } from "./harness.js";

async function post(sim: SimServer, control: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.httpUrl}/_sim/${control}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function counters(sim: SimServer): Promise<SimCounters> {
  const res = await fetch(`${sim.httpUrl}/_sim/counters`);
  expect(res.headers.get("content-type")).toBe("application/json");
  return (await res.json()) as SimCounters;
}

describe("sim - counters", () => {
  const { start, connect, authed } = useSim();

  it("sim - counts connections, auths, submissions per taskUUID, getResponses, pings and maxOutstanding", async () => {
    const sim = await start({ workMs: 60 });
    const c = await authed(sim);
    await connect(sim);
    const tasks = [imageTask(), imageTask(), imageTask()];
    c.send(tasks);
    c.send([tasks[0]]); // conflict: counted as received twice
    c.send([{ taskType: "ping", ping: true }]);
    await waitFor(() => sim.counters.outstanding === 3);
    for (const t of tasks) await c.itemsFor(t.taskUUID, 1);
    c.send([{ taskType: "getResponse", taskUUID: tasks[1]!.taskUUID }]);
    await waitFor(() => sim.counters.getResponses[tasks[1]!.taskUUID] === 1);

    const n = sim.counters;
    expect(n.connections).toBe(2);
    expect(n.open).toBe(2);
    expect(n.auths).toHaveLength(1);
    expect(n.received).toEqual({ [tasks[0]!.taskUUID]: 2, [tasks[1]!.taskUUID]: 1, [tasks[2]!.taskUUID]: 1 });
    expect(n.conflicts).toBe(1);
    expect(n.pings).toBe(1);
    expect(n.maxOutstanding).toBe(3);
    await waitFor(() => sim.counters.outstanding === 0);

    sim.resetCounters();
    expect(sim.counters).toMatchObject({
      connections: 0,
      open: 2,
      auths: [],
      received: {},
      getResponses: {},
      maxOutstanding: 0,
      pings: 0,
      conflicts: 0,
    });
  });

  it("sim - counters is a snapshot, not a live view", async () => {
    const sim = await start();
    const before = sim.counters;
    await connect(sim);
    expect(before.connections).toBe(0);
    expect(sim.counters.connections).toBe(1);
  });
});

describe("sim - frame tap", () => {
  const { start, authed } = useSim();

  it("sim - tapFrames sees every frame as received, until removed", async () => {
    const sim = await start({ workMs: 5 });
    const seen: string[] = [];
    const untap = sim.tapFrames((text) => seen.push(text));
    const c = await authed(sim);
    const t = imageTask();
    c.send([t]);
    await c.itemsFor(t.taskUUID, 1);
    expect(seen[0]).toContain('"authentication"');
    expect(seen.some((f) => JSON.parse(f)[0]?.taskUUID === t.taskUUID)).toBe(true);
    untap();
    const before = seen.length;
    c.send([{ taskType: "ping", ping: true }]);
    await waitFor(() => sim.counters.pings === 1);
    expect(seen).toHaveLength(before);
  });
});

describe("sim - HTTP control endpoint", () => {
  const { start, connect, authed } = useSim();

  it("sim - GET /_sim/counters serves the counters as JSON", async () => {
    const sim = await start();
    const c = await authed(sim);
    const t = imageTask();
    c.send([t]);
    await c.itemsFor(t.taskUUID, 1);
    const json = await counters(sim);
    expect(json.received).toEqual({ [t.taskUUID]: 1 });
    expect(json.auths).toHaveLength(1);
    expect(json.open).toBe(1);
  });

  it("sim - POST /_sim/freeze and /_sim/unfreeze control pongs", async () => {
    const sim = await start();
    const c = await connect(sim);
    expect(await post(sim, "freeze")).toEqual({ status: 200, json: { ok: true } });
    c.send([{ taskType: "ping", ping: true }]);
    await expect(c.waitFor((f) => f.data?.[0]?.["pong"] === true, { timeoutMs: 150 })).rejects.toThrow(/timed out/);
    await post(sim, "unfreeze", {});
    await c.waitFor((f) => f.data?.[0]?.["pong"] === true);
  });

  it("sim - POST controls change timings, keys, faults and sessions", async () => {
    const sim = await start();
    expect((await post(sim, "setLatency", { ms: 7 })).status).toBe(200);
    expect((await post(sim, "setWorkTime", { ms: 9 })).status).toBe(200);
    expect((await post(sim, "setAuthDelay", { ms: 3 })).status).toBe(200);
    expect((await post(sim, "setRejectedKeys", { keys: ["bad-key"] })).status).toBe(200);
    expect(sim.options).toMatchObject({ latencyMs: 7, workMs: 9, authDelayMs: 3, rejectedKeys: ["bad-key"] });

    const c = await connect(sim);
    expect((await c.authFrame("bad-key")).errors?.[0]?.["code"]).toBe("invalidApiKey");
    const session = await c.authenticate("test-key");

    await post(sim, "injectErrors", { code: "insufficientCredits", count: 1, taskTypes: ["imageInference"] });
    const t = imageTask();
    c.send([t]);
    expect((await c.errorFor(t.taskUUID))["code"]).toBe("insufficientCredits");
    await post(sim, "injectErrors", { code: "timeoutProvider", rate: 1 });
    await post(sim, "clearErrors");
    const ok = imageTask();
    c.send([ok]);
    await c.itemsFor(ok.taskUUID, 1);

    await post(sim, "sendGarbage", { text: "junk" });
    await c.waitFor((f) => f.raw === "junk");

    await post(sim, "cutAll");
    await c.closed;
    await post(sim, "forgetSessions");
    const c2 = await connect(sim);
    expect(await c2.authenticate("test-key", session)).not.toBe(session);

    await post(sim, "failNextAuths", { n: 1, mode: "error" });
    const c3 = await connect(sim);
    expect((await c3.authFrame("test-key")).errors?.[0]?.["code"]).toBe("internalServerError");

    await post(sim, "resetCounters");
    expect((await counters(sim)).auths).toEqual([]);
  });

  it("sim - refuses unknown controls, wrong methods and bad bodies", async () => {
    const sim = await start();
    expect((await post(sim, "explode")).status).toBe(404);
    expect((await post(sim, "setLatency", { ms: -1 })).status).toBe(400);
    expect((await post(sim, "setLatency")).status).toBe(400);
    expect((await post(sim, "failNextAuths", { n: 1, mode: "maybe" })).status).toBe(400);
    expect((await fetch(`${sim.httpUrl}/_sim/freeze`)).status).toBe(405);
    expect((await fetch(`${sim.httpUrl}/_sim/counters`, { method: "POST" })).status).toBe(405);
    const bad = await fetch(`${sim.httpUrl}/_sim/setLatency`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    expect((await fetch(`${sim.httpUrl}/elsewhere`)).status).toBe(404);
    expect(sim.options.latencyMs).toBe(0);
  });
});
