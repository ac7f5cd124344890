/**
 * JSON answers within the local side's budgets (docs/local-api.md §2.1, §2.3): a large answer is
 * streamed item by item, a small one goes in one piece; an answer held past the clients' total
 * budget is refused (503 answerTooLarge) before it starts, or ended with `clientTooSlow` errors when
 * its reader stopped reading; request bodies past the reading budget get 503 serverBusy.
 */
import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import net, { type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { forceGc } from "../../scripts/chaos/resources.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, openRequest, postTasks, request, startRig, type DaemonRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { base64Tasks, MiB } from "./budget-rig.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const KiB = 1024;

/** `POST /v1` whose response the test reads when it wants (paused until then). */
function pausedPost(rig: DaemonRig, tasks: unknown): Promise<http.IncomingMessage> {
  const body = JSON.stringify(tasks);
  const req = http.request({
    socketPath: rig.socketPath,
    path: "/v1",
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
  });
  cleanup.defer(() => req.destroy());
  req.on("error", () => undefined);
  req.end(body);
  return new Promise((resolve) =>
    req.on("response", (res) => {
      res.pause();
      resolve(res);
    }),
  );
}

function readAll(res: http.IncomingMessage): Promise<string> {
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => (text += c));
  // 'close' too: a cut stream ends without 'end', and its test then fails on what it got.
  return new Promise((resolve) => {
    res.on("end", () => resolve(text));
    res.on("close", () => resolve(text));
    res.resume();
  });
}

describe("budgets - JSON answers", () => {
  it("budgets - a large answer is streamed in pieces, whole and in task order; a small one comes in one piece with its length", async () => {
    const rig = await startRig(cleanup, { sim: { base64ResultChars: 256 * KiB } });
    const tasks = base64Tasks(4, 4);
    const res = await pausedPost(rig, tasks);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-length"]).toBeUndefined();
    expect(res.headers["transfer-encoding"]).toBe("chunked");
    const body = JSON.parse(await readAll(res)) as Obj;
    expect(body["errors"]).toBeUndefined();
    const data = body["data"] as Obj[];
    expect(data.map((d) => d["taskUUID"])).toEqual(tasks.flatMap((t) => [t.taskUUID, t.taskUUID, t.taskUUID, t.taskUUID]));
    expect(data.every((d) => String(d["imageBase64Data"]).length === 256 * KiB)).toBe(true);

    const small = await postTasks(rig.socketPath, [{ taskType: "ping" }]);
    expect(small.status).toBe(200);
    expect(Number(small.headers["content-length"])).toBe(Buffer.byteLength(small.text));
  });

  it("budgets - a batch whose results would pass the clients' total budget gets 503 answerTooLarge naming every task; they stay readable", async () => {
    const rig = await startRig(cleanup, { sim: { base64ResultChars: 512 * KiB }, settings: { maxUnsentBytes: 3 * MiB } });
    const tasks = base64Tasks(2, 4); // 4 MiB
    const res = await postTasks(rig.socketPath, tasks);
    expect(res.status).toBe(503);
    const errors = res.json!["errors"] as Obj[];
    expect(errors.map((e) => e["taskUUID"])).toEqual(tasks.map((t) => t.taskUUID));
    for (const e of errors) {
      expect(e).toMatchObject({ code: "answerTooLarge", taskType: "imageInference" });
      expect(e["message"]).toMatch(/3145728-byte total.*GET \/v1\/tasks\/\{taskUUID\}/);
    }
    for (const t of tasks) {
      const one = await getJson(rig.socketPath, `/v1/tasks/${t.taskUUID}?wait=1`);
      expect(one.status).toBe(200);
      expect(one.json!["data"]).toHaveLength(4);
    }
  });

  it("budgets - a JSON reader that stops reading mid-answer, when the total budget is needed, gets its answer's end with clientTooSlow errors", async () => {
    const rig = await startRig(cleanup, {
      sim: { base64ResultChars: 512 * KiB },
      settings: { maxUnsentBytes: 3 * MiB, maxClientUnsentBytes: 8 * MiB },
    });
    const [task] = base64Tasks(1, 4); // a 2 MiB answer, not read
    const res = await pausedPost(rig, [task]);
    // A WebSocket client that does not read either takes both past 3 MiB; the answer holds more.
    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.ws.terminate());
    (ws.ws as unknown as { _socket: Socket })._socket.pause();
    const [other] = base64Tasks(1, 4);
    ws.send(other);
    await waitFor(() => rig.daemon.service.lookup(other!.taskUUID)?.state === "done", "the WebSocket client's task to finish");

    const body = JSON.parse(await readAll(res)) as Obj;
    const data = body["data"] as Obj[];
    expect(data.length).toBeLessThan(4);
    expect(data.every((d) => d["taskUUID"] === task!.taskUUID && String(d["imageBase64Data"]).length === 512 * KiB)).toBe(true);
    expect(body["errors"]).toEqual([
      expect.objectContaining({ code: "clientTooSlow", taskUUID: task!.taskUUID, taskType: "imageInference" }),
    ]);
  });
});

describe("budgets - answers already written whole", () => {
  it("budgets - an NDJSON stream written to its done line keeps it when the total budget is needed; its reader gets it all", async () => {
    const rig = await startRig(cleanup, {
      sim: { base64ResultChars: 512 * KiB },
      settings: { maxUnsentBytes: 3 * MiB, maxClientUnsentBytes: 8 * MiB },
    });
    const tasks = base64Tasks(1, 4); // 2 MiB, all written, none read
    const body = JSON.stringify(tasks);
    const req = http.request({
      socketPath: rig.socketPath,
      path: "/v1",
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", accept: "application/x-ndjson", "content-length": String(Buffer.byteLength(body)) },
    });
    cleanup.defer(() => req.destroy());
    req.on("error", () => undefined);
    const response = new Promise<http.IncomingMessage>((resolve) => req.on("response", resolve));
    req.end(body);
    const res = await response;
    res.pause();
    await waitFor(() => rig.daemon.service.lookup(tasks[0]!.taskUUID)?.state === "done", "its task to finish");
    // A WebSocket client that does not read either takes both past 3 MiB.
    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.ws.terminate());
    (ws.ws as unknown as { _socket: Socket })._socket.pause();
    const [other] = base64Tasks(1, 4);
    ws.send(other);
    await waitFor(() => rig.daemon.service.lookup(other!.taskUUID)?.state === "done", "the WebSocket client's task to finish");

    const lines = (await readAll(res))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Obj);
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toEqual({ done: true, tasks: 1, completed: 1, failed: 0, inDoubt: 0, results: 4 });
  });
});

describe("budgets - request bodies being read", () => {
  it("budgets - past the reading budget a new body gets 503 serverBusy with Retry-After; once bodies are read, it is taken again", async () => {
    const rig = await startRig(cleanup, { settings: { maxReadingBytes: 64 * KiB } });
    const ping = '{"taskType":"ping"}';
    // A body of 60 KiB (JSON with whitespace), 40 KiB of it sent, the rest held back.
    const slow = openRequest(rig.socketPath, "/v1", {
      method: "POST",
      headers: { "content-length": String(60 * KiB), "content-type": "application/json" },
    });
    cleanup.defer(() => slow.destroy());
    const slowAnswer = new Promise<number>((resolve) => slow.on("response", (r) => resolve(r.resume().statusCode ?? 0)));
    slow.on("error", () => undefined);
    slow.write(`[${" ".repeat(40 * KiB - 1)}`);

    // 30 KiB more does not fit beside it, declared or streamed.
    const padded = (bytes: number) => `[${ping}${" ".repeat(bytes - ping.length - 2)}]`;
    const busy = await waitFor(async () => {
      const r = await request(rig.socketPath, "/v1", { method: "POST", body: padded(30 * KiB) });
      return r.status === 503 ? r : undefined;
    }, "a body to be refused while 40 KiB are being read");
    expect(busy.headers["retry-after"]).toBe("1");
    expect(busy.json!["errors"][0]).toMatchObject({ code: "serverBusy" });
    expect(busy.json!["errors"][0]["message"]).toContain("maxReadingBytes");
    const streamed = await request(rig.socketPath, "/v1", { method: "POST", body: padded(30 * KiB), chunked: true });
    expect(streamed.status).toBe(503);
    expect(streamed.json!["errors"][0]["code"]).toBe("serverBusy");
    // A small one still fits.
    expect((await postTasks(rig.socketPath, [{ taskType: "ping" }])).status).toBe(200);

    slow.end(`${" ".repeat(20 * KiB - ping.length - 1)}${ping}]`);
    expect(await slowAnswer).toBe(200);
    expect((await request(rig.socketPath, "/v1", { method: "POST", body: padded(30 * KiB) })).status).toBe(200);
  });

  it("budgets - a body once read is let go: queued tasks keep only their encoding, not the request's bytes", async () => {
    // One task holds the only slot for a while; the others wait in the queue with a 4 MB field each.
    const rig = await startRig(cleanup, { sim: { workMs: 3_000 }, flags: { "max-in-flight": "1" } });
    const first = randomUUID();
    const sockets: net.Socket[] = [];
    const send = (task: unknown) => {
      const body = JSON.stringify([task]);
      const s = net.connect(rig.socketPath, () =>
        s.write(
          `POST /v1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        ),
      );
      s.on("error", () => undefined);
      sockets.push(s);
      cleanup.defer(() => s.destroy());
    };
    send(imageTask({ taskUUID: first }));
    await waitFor(() => rig.sim.counters.received[first] === 1, "the first task to hold the slot");
    forceGc();
    const before = process.memoryUsage();
    for (let i = 0; i < 4; i++) send(imageTask({ taskUUID: randomUUID(), seedImage: `data:image/png;base64,${"A".repeat(4 * MiB)}` }));
    await waitFor(() => rig.daemon.engine.stats().tasks.queued === 4, "the 4 tasks to be queued");
    forceGc();
    // 16 MiB of bodies were read. What stays: the queue's encoded text and this process's own
    // copies of what it sent (16 MiB of strings each); not the bodies' buffers, nor the parsed
    // tasks and the body text they point into (16 MiB more).
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(4 * MiB);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(40 * MiB);
  });
});
