/**
 * Retained results bounded by bytes (docs/local-api.md §2.4, docs/reliability.md Limits), on a real
 * daemon process with an 8 MiB result store and a heap limit from its budgets: many base64 results
 * pass through, every caller gets all of its own, the oldest are evicted, and a lookup of an evicted
 * task says so (410 `taskEvicted`), distinct from an unknown one (404).
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, memoryOf, postTasks } from "../helpers/daemon.js";
import { base64Tasks, expectAlive, MiB, rssBound, startDaemonProcess } from "./budget-rig.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("budgets - retained results", () => {
  it("budgets - results past the store's byte budget are evicted oldest first; lookups say evicted; memory stays in budget", async () => {
    // 4 results of 1 MiB per task; 36 tasks: 144 MiB through a store of 8 MiB.
    const rig = await startDaemonProcess(cleanup, { sim: { base64ResultChars: MiB } });
    const [first, ...rest] = base64Tasks(36, 4);
    const answer = await postTasks(rig.socketPath, [first]);
    expect(answer.status).toBe(200);
    expect(answer.json!["data"]).toHaveLength(4);
    expect((await getJson(rig.socketPath, `/v1/tasks/${first!.taskUUID}`)).json!["state"]).toBe("done");

    // Two callers at a time, each gets every result of its own task.
    const queue = [...rest];
    await Promise.all(
      [0, 1].map(async () => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          const res = await postTasks(rig.socketPath, [t], {}, 20_000);
          expect(res.status).toBe(200);
          expect(res.json!["errors"]).toBeUndefined();
          const data = res.json!["data"] as Array<Record<string, string>>;
          expect(data.map((d) => d["imageBase64Data"]!.length)).toEqual([MiB, MiB, MiB, MiB]);
        }
      }),
    );

    const gone = await getJson(rig.socketPath, `/v1/tasks/${first!.taskUUID}`);
    expect(gone.status).toBe(410);
    const err = (gone.json!["errors"] as Array<Record<string, string>>)[0]!;
    expect(err).toMatchObject({ code: "taskEvicted", taskUUID: first!.taskUUID, taskType: "imageInference" });
    expect(err["message"]).toMatch(/finished at .* evicted at .*resultRetentionBytes/);
    expect((await getJson(rig.socketPath, `/v1/tasks/${first!.taskUUID}?wait=1`)).status).toBe(410);
    // A local getResponse says so too, without asking Runware.
    const received = rig.sim.counters.received[first!.taskUUID];
    const poll = await postTasks(rig.socketPath, [{ taskType: "getResponse", taskUUID: first!.taskUUID }]);
    expect(poll.status).toBe(200);
    expect(poll.json!["errors"]).toEqual([expect.objectContaining({ code: "taskEvicted", taskUUID: first!.taskUUID, status: "error" })]);
    expect(rig.sim.counters.received[first!.taskUUID]).toBe(received);
    // Unknown is still unknown; the newest task is still readable.
    expect((await getJson(rig.socketPath, `/v1/tasks/${randomUUID()}`)).status).toBe(404);
    const last = await getJson(rig.socketPath, `/v1/tasks/${rest.at(-1)!.taskUUID}`);
    expect(last.status).toBe(200);
    expect(last.json!["data"]).toHaveLength(4);

    await expectAlive(rig);
    expect(memoryOf(rig.pid).peak).toBeLessThan(rssBound(rig));
  });
});
