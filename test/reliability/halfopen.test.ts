/**
 * Half-open links at the TCP level (docs/local-api.md §3.7): a proxy between the engine and the simulator
 * stops forwarding both ways while every socket stays open, as when a NAT entry expires or a laptop
 * sleeps. Nothing closes, so only the heartbeat can notice; it must within ping + 2 × pong, and the
 * tasks that were in flight must still finish, under their own UUIDs, from the session Runware kept.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TcpProxy } from "../../scripts/chaos/proxy.js";
import { SimServer } from "../../src/sim/index.js";
import type { TaskOutcome } from "../../src/upstream/task.js";
import { Cleanup } from "../helpers/cleanup.js";
import { imageTask, startEngine, type TestEngine } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Tiny heartbeat: a silent link is dropped 60 + 2 × 40 = 140 ms after its last frame at the latest. */
const HB = { pingIntervalMs: 60, pongTimeoutMs: 40, maxMissedPongs: 2 } as const;
const BOUND_MS = HB.pingIntervalMs + HB.maxMissedPongs * HB.pongTimeoutMs;
/** Timer and scheduling slack on a busy 2-core machine (the bound itself is exact in fake time, see heartbeat.test.ts). */
const SLACK_MS = 400;

interface Rig {
  sim: SimServer;
  proxy: TcpProxy;
  te: TestEngine;
  states: Array<{ t: number; to: string; reason: string }>;
}

async function rig(workMs: number): Promise<Rig> {
  const sim = cleanup.add(await SimServer.start({ workMs, split: "each" }), (s) => s.close());
  const proxy = cleanup.add(await TcpProxy.forUrl(sim.url), (p) => p.close());
  const te = startEngine(proxy.rewrite(sim.url), HB);
  cleanup.defer(() => te.closeAndCheck());
  const states: Rig["states"] = [];
  te.engine.on("state", (to, _from, reason) => states.push({ t: performance.now(), to, reason }));
  await waitFor(() => te.engine.stats().upstream.state === "ready", "the link to be ready");
  return { sim, proxy, te, states };
}

/** Freeze the proxy and resolve with how long the engine took to give up on the link, and why. */
async function freezeUntilDropped(r: Rig): Promise<{ ms: number; reason: string }> {
  const from = r.states.length;
  const frozenAt = performance.now();
  r.proxy.freeze();
  const drop = await waitFor(() => r.states.slice(from).find((s) => s.to === "backoff"), "the engine to drop the frozen link", 3_000);
  return { ms: drop.t - frozenAt, reason: drop.reason };
}

function ids(o: TaskOutcome): string[] {
  return o.data.map((d) => String(d["imageUUID"]));
}

describe("halfopen - a link that goes silent without closing", () => {
  it("halfopen - a frozen TCP link is detected within ping + 2 × pong, by the heartbeat, and replaced", async () => {
    const r = await rig(5);
    const drop = await freezeUntilDropped(r);
    expect(drop.reason).toMatch(/heartbeat/);
    expect(drop.ms).toBeLessThanOrEqual(BOUND_MS + SLACK_MS);
    // The frozen socket was abandoned (terminated), not waited on: a new link is dialled.
    r.proxy.unfreeze();
    await waitFor(() => r.te.engine.stats().upstream.state === "ready", "a new link");
    const out = await r.te.engine.submit(imageTask()).done;
    expect(out.state).toBe("done");
    expect(r.sim.counters.connections).toBeGreaterThanOrEqual(2);
    expect(r.te.engine.stats().upstream.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("halfopen - tasks in flight at the freeze complete after unfreeze: results lost in the dead link come back by getResponse, never resent", async () => {
    const r = await rig(120);
    const hs = Array.from({ length: 4 }, (_, i) => r.te.engine.submit(imageTask({ numberResults: 2, positivePrompt: `frozen ${i}` })));
    await waitFor(() => r.sim.counters.outstanding === 4, "4 tasks running upstream");
    await freezeUntilDropped(r);
    // Runware finishes the work while the link is frozen and writes the results into it: gone.
    await waitFor(() => r.sim.counters.outstanding === 0, "the simulator to finish the work");
    r.proxy.unfreeze();
    const outs = await Promise.all(hs.map((h) => h.done));
    for (const o of outs) {
      expect(o.state).toBe("done");
      expect(new Set(ids(o)).size).toBe(2);
      expect(r.sim.counters.received[o.taskUUID]).toBe(1); // resumed session: nothing resent
      expect(r.sim.counters.getResponses[o.taskUUID]).toBeGreaterThanOrEqual(1);
    }
    const auths = r.sim.counters.auths;
    expect(auths.at(-1)).toMatchObject({ resumed: true, sessionUUID: auths[0]!.sessionUUID });
  });

  it("halfopen - tasks in flight complete after the frozen connections are replaced (cut), without a resend", async () => {
    const r = await rig(120);
    const hs = Array.from({ length: 3 }, () => r.te.engine.submit(imageTask({ numberResults: 3 })));
    await waitFor(() => r.sim.counters.outstanding === 3, "3 tasks running upstream");
    await freezeUntilDropped(r);
    await waitFor(() => r.sim.counters.outstanding === 0, "the simulator to finish the work");
    r.proxy.cut(); // whatever the frozen connections held is destroyed with them
    r.proxy.unfreeze();
    const outs = await Promise.all(hs.map((h) => h.done));
    for (const o of outs) {
      expect(o.state).toBe("done");
      expect(new Set(ids(o)).size).toBe(3);
      expect(r.sim.counters.received[o.taskUUID]).toBe(1);
    }
    expect(r.proxy.counters.cut).toBeGreaterThanOrEqual(1);
  });

  it("halfopen - a frozen link whose session Runware forgot: tasks are resent under the same UUID, and polled on conflict", async () => {
    const r = await rig(120);
    const hs = Array.from({ length: 3 }, () => r.te.engine.submit(imageTask({ numberResults: 2 })));
    await waitFor(() => r.sim.counters.outstanding === 3, "3 tasks running upstream");
    await freezeUntilDropped(r);
    r.sim.forgetSessions();
    r.proxy.cut();
    r.proxy.unfreeze();
    const outs = await Promise.all(hs.map((h) => h.done));
    const submitted = new Set(hs.map((h) => h.taskUUID));
    for (const o of outs) {
      expect(o.state).toBe("done");
      expect(new Set(ids(o)).size).toBe(2);
      expect(r.sim.counters.received[o.taskUUID]).toBe(2); // the original and one same-UUID resend
    }
    expect(Object.keys(r.sim.counters.received).every((u) => submitted.has(u))).toBe(true);
    expect(r.sim.counters.auths.at(-1)?.resumed).toBe(false);
  });

  it("halfopen - a freeze much shorter than the heartbeat bound passes unnoticed and costs nothing", async () => {
    const r = await rig(40);
    const h = r.te.engine.submit(imageTask({ numberResults: 2 }));
    await waitFor(() => r.sim.counters.outstanding === 1, "the task running upstream");
    const from = r.states.length;
    r.proxy.freeze();
    await new Promise((res) => setTimeout(res, 25)); // a blip: far below the 140 ms of silence needed to drop
    r.proxy.unfreeze();
    const out = await h.done;
    expect(out.state).toBe("done");
    expect(r.states.slice(from).filter((s) => s.to === "backoff")).toEqual([]);
    expect(r.sim.counters.connections).toBe(1);
    expect(r.sim.counters.received[h.taskUUID]).toBe(1);
  });
});
