/**
 * The connection cap of the local socket (docs/local-api.md §2.7, docs/reliability.md Limits), on a
 * real daemon process capped at 8: idle connections past the cap get a Runware-shaped 503 as they
 * open and are closed, while a client already connected keeps working; once connections close, new
 * ones are served again. The daemon never exits.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import net from "node:net";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { WsTestClient } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";
import { expectAlive, startDaemonProcess } from "./budget-rig.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const CAP = 8;

interface Idle {
  socket: net.Socket;
  /** Everything received on it. */
  text: () => string;
  closed: () => boolean;
}

/** A connection that sends nothing; resolves once connected. */
function idle(socketPath: string): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    cleanup.defer(() => socket.destroy());
    let text = "";
    let closed = false;
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (text += c));
    socket.on("close", () => (closed = true));
    socket.once("error", reject);
    socket.once("connect", () => resolve({ socket, text: () => text, closed: () => closed }));
  });
}

describe("budgets - local connections", () => {
  it("budgets - idle connections past the cap get 503 tooManyConnections and are closed; a connected client keeps working", async () => {
    const rig = await startDaemonProcess(cleanup, { flags: { "max-local-connections": String(CAP) } });
    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (c) => c.ws.terminate());
    ws.send([{ taskType: "ping", ping: true }]);
    await ws.waitFor((f) => f.data?.[0]?.["pong"] === true);

    // One at a time, so the daemon takes them in order: CAP - 1 fit beside the WebSocket.
    const conns: Idle[] = [];
    for (let i = 0; i < CAP + 4; i++) conns.push(await idle(rig.socketPath));
    const refused = conns.slice(CAP - 1);
    await waitFor(() => refused.every((c) => c.closed()), "the connections past the cap to be answered and closed");
    for (const c of refused) {
      expect(c.text()).toMatch(/^HTTP\/1\.1 503 /);
      expect(c.text().toLowerCase()).toContain("retry-after: 1");
      const body = JSON.parse(c.text().slice(c.text().indexOf("\r\n\r\n") + 4)) as { errors: Array<Record<string, string>> };
      expect(body.errors[0]).toMatchObject({ code: "tooManyConnections" });
      expect(body.errors[0]!["message"]).toContain(`maxLocalConnections ${CAP}`);
    }
    // A request on a new connection is refused the same way, with an answer it can read.
    const extra = await getJson(rig.socketPath, "/v1/status");
    expect(extra.status).toBe(503);
    expect(extra.json!["errors"][0]["code"]).toBe("tooManyConnections");

    // Everyone already connected is still served: the WebSocket runs a task.
    const task = { ...imageTask({ numberResults: 2 }), taskUUID: randomUUID() };
    ws.send(task);
    expect(await ws.itemsFor(task.taskUUID, 2)).toHaveLength(2);
    expect(conns.slice(0, CAP - 1).every((c) => !c.closed() && c.text() === "")).toBe(true);

    // Room again once connections close.
    for (const c of conns) c.socket.destroy();
    await waitFor(async () => (await getJson(rig.socketPath, "/v1/status")).status === 200, "a request to be served again");
    expect((await postTasks(rig.socketPath, [imageTask()])).status).toBe(200);
    await expectAlive(rig);
  });
});
