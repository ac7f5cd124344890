/**
 * Local clients that stop reading (docs/local-api.md §2.2, §2.6; docs/reliability.md Limits), on a
 * real daemon process with a 2 MiB budget per client: a WebSocket client is closed with 1008 and a
 * `clientTooSlow` reason, an NDJSON reader gets a last `clientTooSlow` error line naming its tasks
 * and the end of the stream; their tasks keep running and stay readable by UUID; slow clients that
 * add up past the total lose the one holding most first. The daemon never exits and stays in budget.
 */
import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import type { Socket } from "node:net";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, memoryOf } from "../helpers/daemon.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { base64Tasks, expectAlive, MiB, rssBound, startDaemonProcess, type ProcRig } from "./budget-rig.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A result store that keeps every task of these tests (24 MiB of results), so all stay readable. */
const KEEP_ALL = { "result-retention-bytes": String(32 * MiB) };

async function wsClient(rig: ProcRig): Promise<WsTestClient> {
  const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.ws.terminate());
  ws.send([{ taskType: "authentication", apiKey: "ignored" }]);
  await ws.waitFor((f) => f.data?.[0]?.["taskType"] === "authentication");
  return ws;
}

/** The client's own socket: paused, it reads nothing, so what the daemon writes piles up there. */
function socketOf(ws: WsTestClient): Socket {
  return (ws.ws as unknown as { _socket: Socket })._socket;
}

/** `n` tasks finished, as `GET /v1/status` counts them (no results travel). */
async function completed(rig: ProcRig, n: number): Promise<void> {
  await waitFor(async () => (await getJson(rig.socketPath, "/v1/status")).json!["tasks"]["completed"] >= n, `${n} tasks completed`, 15_000);
}

/** Every task finished upstream and is readable by UUID, with all its results. */
async function expectAllDone(rig: ProcRig, tasks: Array<{ taskUUID: string }>, results: number): Promise<void> {
  for (const t of tasks) {
    const res = await getJson(rig.socketPath, `/v1/tasks/${t.taskUUID}?wait=1`);
    expect(res.status, t.taskUUID).toBe(200);
    expect(res.json!["state"]).toBe("done");
    expect(res.json!["data"]).toHaveLength(results);
  }
}

describe("budgets - clients that stop reading", () => {
  it("budgets - a WebSocket client that never reads is closed with 1008 clientTooSlow; its tasks finish and stay readable", async () => {
    const rig = await startDaemonProcess(cleanup, { sim: { base64ResultChars: MiB }, flags: KEEP_ALL });
    const ws = await wsClient(rig);
    socketOf(ws).pause();
    const tasks = base64Tasks(6, 4); // 24 MiB for a client that may hold 2
    for (const t of tasks) ws.send(t);
    await rig.daemon.waitForLine("local websocket client too slow");
    await expectAllDone(rig, tasks, 4);
    socketOf(ws).resume();
    const closed = await ws.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^clientTooSlow: \d+ bytes unread, over the 2097152-byte budget/);
    // What did arrive is whole frames, and far from all of it.
    const items = ws.frames.flatMap((f) => f.data ?? []).filter((d) => d["imageBase64Data"]);
    expect(ws.frames.every((f) => f.raw === undefined)).toBe(true);
    expect(items.length).toBeLessThan(24);
    await expectAlive(rig);
    expect(memoryOf(rig.pid).peak).toBeLessThan(rssBound(rig));
  });

  it("budgets - an NDJSON reader that never reads gets a last clientTooSlow line naming its tasks; they stay readable", async () => {
    const rig = await startDaemonProcess(cleanup, { sim: { base64ResultChars: MiB }, flags: KEEP_ALL });
    const tasks = base64Tasks(6, 4);
    const body = JSON.stringify(tasks);
    const req = http.request({
      socketPath: rig.socketPath,
      path: "/v1",
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", accept: "application/x-ndjson", "content-length": String(Buffer.byteLength(body)) },
    });
    cleanup.defer(() => req.destroy());
    const response = new Promise<http.IncomingMessage>((resolve) => req.on("response", resolve));
    req.on("error", () => undefined);
    req.end(body);
    const res = await response;
    res.pause();
    await rig.daemon.waitForLine("local NDJSON reader too slow");
    await expectAllDone(rig, tasks, 4);

    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (text += c));
    await new Promise<void>((resolve) => res.on("end", resolve).resume());
    const lines = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Obj);
    const last = lines.at(-1)!;
    expect(lines.some((l) => l["done"])).toBe(false);
    const errors = last["errors"] as Obj[];
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e).toMatchObject({ code: "clientTooSlow", taskType: "imageInference" });
      expect(tasks.map((t) => t.taskUUID)).toContain(e["taskUUID"]);
      expect(e["message"]).toContain("GET /v1/tasks/");
    }
    expect(lines.slice(0, -1).every((l) => Array.isArray(l["data"]))).toBe(true);
    expect(lines.length - 1).toBeLessThan(24);
    await expectAlive(rig);
    expect(memoryOf(rig.pid).peak).toBeLessThan(rssBound(rig));
  });

  it("budgets - slow clients that add up past the total: the one holding most is closed first, and can read why", async () => {
    const rig = await startDaemonProcess(cleanup, {
      sim: { base64ResultChars: 512 * 1024 },
      flags: { "max-client-unsent-bytes": String(8 * MiB), "max-unsent-bytes": String(3 * MiB) },
    });
    const big = await wsClient(rig);
    const small = await wsClient(rig);
    socketOf(big).pause();
    socketOf(small).pause();
    // The first holds ~2 MiB unread; the second's 2 MiB take both past 3 MiB while the first
    // still holds more.
    const [bigTask] = base64Tasks(1, 4);
    big.send(bigTask);
    await completed(rig, 1);
    const [smallTask] = base64Tasks(1, 4);
    small.send(smallTask);
    await completed(rig, 2);

    const cuts = rig.daemon
      .stdout()
      .split("\n")
      .filter((l) => l.includes("local websocket client too slow"));
    expect(cuts[0]).toContain('"client":"ws:1"');
    expect(cuts.every((l) => l.includes("over the daemon's 3145728-byte total"))).toBe(true);
    socketOf(big).resume();
    const closed = await big.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^clientTooSlow: local clients hold \d+ bytes, over the daemon's 3145728-byte total; this one held most/);
    // The other, still not reading while memory was full, is closed the same way or has all it was due.
    socketOf(small).resume();
    await waitFor(() => small.items(smallTask!.taskUUID).length === 4 || !small.isOpen, "the second client's end");
    if (!small.isOpen) expect((await small.closed).code).toBe(1008);
    await expectAlive(rig);
    expect(memoryOf(rig.pid).peak).toBeLessThan(rssBound(rig));
  });
});
