/**
 * Minimal reproductions of what the chaos run found (scripts/chaos), one test each, with the seed
 * that first showed it. They pin the fix: each fails on the code as it was before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { postNdjson } from "../../scripts/chaos/local-client.js";
import { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { imageTask, startEngine } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient, type Frame } from "../helpers/ws-client.js";
import { startReliabilityRig, type ReliabilityRig } from "./rig.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Frames that are the async acknowledgement of `uuid`: an item with neither result nor status. */
function acks(frames: Frame[], uuid: string): number {
  return frames
    .flatMap((f) => f.data ?? [])
    .filter((i) => i["taskUUID"] === uuid && i["imageUUID"] === undefined && i["status"] === undefined).length;
}

async function client(rig: ReliabilityRig): Promise<WsTestClient> {
  const c = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (x) => x.close());
  await c.authenticate("client-key");
  return c;
}

/** Poll getResponse over the local WebSocket, as a Runware client does, until the task is final. */
async function pollUntilFinal(c: WsTestClient, uuid: string, n: number): Promise<Frame> {
  for (;;) {
    const from = c.mark();
    c.send([{ taskType: "getResponse", taskUUID: uuid }]);
    const reply = await c.waitFor(
      (f) => [...(f.data ?? []), ...(f.errors ?? [])].some((i) => i["taskUUID"] === uuid && i["status"] !== undefined),
      { from },
    );
    const done =
      (reply.data ?? []).filter((i) => i["status"] === "success").length >= n &&
      !(reply.data ?? []).some((i) => i["status"] === "processing");
    if (done || (reply.errors ?? []).length > 0) return reply;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("regressions - async acknowledgements on the local WebSocket", () => {
  // chaos seed 5 (quick preset): WebSocket clients waited forever for async tasks the engine had finished.
  it("regression - an async task whose acknowledgement was lost upstream is still acknowledged to the local client", async () => {
    const rig = await startReliabilityRig(cleanup, {
      sim: { workMs: 60 },
      engine: { pingIntervalMs: 60, pongTimeoutMs: 40, maxMissedPongs: 2 },
    });
    const c = await client(rig);
    const uuid = randomUUID();
    let settled = false;
    rig.daemon.engine.on("settled", (o) => {
      if (o.taskUUID === uuid) settled = true;
    });
    // The link goes silent the moment the task reaches the simulator: its acknowledgement is written
    // into a frozen TCP connection and lost with it (the simulator counts it as delivered).
    let frozen = false;
    rig.sim.tapFrames((text) => {
      if (!frozen && text.includes(uuid)) {
        frozen = true;
        rig.proxy.freeze();
      }
    });
    c.send([imageTask({ taskUUID: uuid, deliveryMethod: "async", numberResults: 2 })]);
    await waitFor(() => rig.states.some((s) => s.to === "backoff"), "the heartbeat to drop the frozen link");
    rig.proxy.cut();
    rig.proxy.unfreeze();
    await waitFor(() => settled, "the engine to recover and finish the task");
    // The client was never told the task was accepted unless the daemon says so now.
    await c.waitFor((f) => acks([f], uuid) > 0, { what: `the acknowledgement of ${uuid}`, timeoutMs: 2_000 });
    const reply = await pollUntilFinal(c, uuid, 2);
    expect(reply.data!.filter((i) => i["status"] === "success")).toHaveLength(2);
    expect(rig.sim.counters.received[uuid]).toBe(1);
  });

  // chaos seed 2 (quick preset): a second acknowledgement for one task after a transient retry.
  it("regression - an async task retried after a transient error is acknowledged once, over WebSocket and NDJSON", async () => {
    const rig = await startReliabilityRig(cleanup, { sim: { workMs: 20 } });
    const c = await client(rig);
    const uuid = randomUUID();
    rig.sim.injectErrors({ code: "timeoutProvider", count: 1 });
    c.send([imageTask({ taskUUID: uuid, deliveryMethod: "async" })]);
    await c.waitFor((f) => acks([f], uuid) > 0, { what: "the acknowledgement" });
    const reply = await pollUntilFinal(c, uuid, 1);
    expect(reply.errors ?? []).toEqual([]);
    expect(rig.sim.counters.received[uuid]).toBe(2); // the retry went upstream under the same UUID...
    expect(acks(c.frames, uuid)).toBe(1); // ...and the client heard about acceptance once

    const again = randomUUID();
    rig.sim.injectErrors({ code: "providerRateLimitExceeded", count: 1 });
    const ans = await postNdjson(rig.socketPath, [imageTask({ taskUUID: again, deliveryMethod: "async" })]);
    expect(ans.lines.at(-1)).toMatchObject({ done: true, completed: 1 });
    expect(acks(ans.lines as Frame[], again)).toBe(1);
  });
});

/**
 * chaos seed 8004 (--faults 200): a poll armed for a recovering task must not go out during a
 * transient-retry wait. Its answer describes the attempt that just failed; taken for a new error, it
 * queued the task twice and lost an in-flight slot for good (with maxInFlight 1 every later task
 * timed out), or freed the slot of a task still running upstream.
 */
describe("regressions - a transient error during recovery polling", () => {
  it("regression - one transient error while recovering is retried once and leaves every in-flight slot free", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 150, split: "single" }), (s) => s.close());
    sim.injectErrors({ code: "timeoutProvider", count: 1 });
    // One slot; a long retry wait with frequent recovery polls, so a poll is armed when the error comes.
    const te = startEngine(sim.url, {
      maxInFlight: 1,
      retryBaseMs: 200,
      retryMaxMs: 200,
      random: () => 0.99,
      recoveryGraceMs: 10,
      pollInitialMs: 10,
      pollMaxMs: 20,
      taskTimeoutMs: 2_000,
    });
    cleanup.defer(() => te.engine.close());
    await waitFor(() => te.engine.stats().upstream.state === "ready", "the link");
    const a = te.engine.submit(imageTask());
    const retries: string[] = [];
    a.subscribe((ev) => {
      if (ev.type === "error" && ev.retrying) retries.push(ev.error.code);
    });
    await waitFor(() => sim.counters.received[a.taskUUID] === 1, "the task upstream");
    sim.cutAll(); // the session resumes: the engine polls getResponse for the task while it runs
    expect((await a.done).state).toBe("done");
    expect(retries).toEqual(["timeoutProvider"]); // one error, one retry (the bug: two)
    expect(te.engine.stats().tasks.inFlight).toBe(0); // the bug: 1, forever
    expect((await te.engine.submit(imageTask()).done).state).toBe("done"); // the bug: taskTimeout
  });
});
