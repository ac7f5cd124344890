/**
 * The Node client's history (src/client/history.ts): the query it builds, and `history()` /
 * `historyEntry()` against a real daemon: a page newest first, one entry in full, undefined for a
 * UUID the daemon never ran, a bad query a RequestRefusedError.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { historyPath } from "../../src/client/history.js";
import { connect, RequestRefusedError } from "../../src/client/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { postTasks, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("client - history", () => {
  it("client history - the query string holds each field that is set, encoded, and nothing for undefined ones", () => {
    expect(historyPath({})).toBe("/v1/history");
    expect(historyPath({ since: "24h", label: "runware run", taskType: undefined, limit: 2, cursor: "a&b" })).toBe(
      "/v1/history?since=24h&label=runware+run&limit=2&cursor=a%26b",
    );
  });

  it("client history - history() pages newest first, historyEntry() gives one in full or undefined, a bad query is refused", async () => {
    const rig = await startRig(cleanup);
    const uuids: string[] = [];
    for (const seed of [3, 4]) {
      const r = await postTasks(rig.socketPath, [imageTask({ seed })], { "runware-label": "client-test" });
      expect(r.status, r.text).toBe(200);
      uuids.unshift((r.json as { data: Array<{ taskUUID: string }> }).data[0]!.taskUUID);
    }
    const rw = connect({ socket: rig.socketPath });
    await waitFor(async () => (await rw.history()).entries.length >= 2, "2 history entries");

    const first = await rw.history({ label: "client-test", limit: 1 });
    expect(first.entries.map((e) => e.taskUUID)).toEqual([uuids[0]]);
    const second = await rw.history({ label: "client-test", limit: 1, cursor: first.nextCursor });
    expect(second.entries.map((e) => e.taskUUID)).toEqual([uuids[1]]);
    expect(second.nextCursor).toBeUndefined();

    const entry = await rw.historyEntry(uuids[1]!);
    expect(entry).toMatchObject({ taskUUID: uuids[1], label: "client-test", seed: 3, input: { seed: 3 } });
    expect(entry?.data).toHaveLength(1);
    expect(await rw.historyEntry(randomUUID())).toBeUndefined();

    const refused = await rw.history({ since: "last tuesday" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RequestRefusedError);
    expect(refused).toMatchObject({ status: 400, code: "invalidHistoryQuery" });
  });
});
