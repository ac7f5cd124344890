/**
 * A daemon process stopped (SIGSTOP: a debugger, a suspended laptop, a swapped-out machine) for
 * longer than the task timeout wakes with its deadline timer due and Runware's answer waiting in
 * its socket. The answer is read first and delivered (src/upstream/deadlines.ts), not replaced by
 * `taskTimeout`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, spawnDaemon, tempDir } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("deadlines - a stopped process", () => {
  it("deadlines - a daemon stopped past the task timeout delivers the results that reached it meanwhile", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 20 }), (s) => s.close());
    const socketPath = join(tempDir(cleanup), "d.sock");
    // No heartbeat during the test: a ping missed while stopped is another matter.
    const d = spawnDaemon(cleanup, {
      upstream: sim.url,
      socketPath,
      flags: { "task-timeout-ms": "300", "ping-interval-ms": "60000", "pong-timeout-ms": "60000" },
    });
    await d.waitForLine("listening");
    await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready");
    const uuid = randomUUID();
    const answer = postTasks(socketPath, [imageTask({ taskUUID: uuid })], {}, 10_000);
    await waitFor(() => sim.counters.received[uuid] === 1, "the task reached the simulator");
    d.child.kill("SIGSTOP");
    try {
      // Runware answers while the daemon sleeps; then its task timeout passes too.
      await waitFor(() => sim.counters.outstanding === 0, "the simulator sent the results");
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      d.child.kill("SIGCONT");
    }
    const reply = await answer;
    expect(reply.status).toBe(200);
    expect(reply.json?.["errors"], JSON.stringify(reply.json)).toBeUndefined();
    expect(reply.json?.["data"]).toHaveLength(1);
  });
});
