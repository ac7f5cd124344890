/**
 * Runware's WebSocket protocol served locally on `GET /v1` (docs/local-api.md §2.6): a client written for
 * `wss://ws-api.runware.ai/v1` works by changing its URL. Auth and ping are answered locally, the
 * client's key never goes upstream, and results go only to the connection that sent the task.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { startRig, UUID_V4, type DaemonRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";
import { Runware } from "@runware/sdk-js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const CLIENT_KEY = "client-key";

/** Every text frame the simulator receives: what the daemon sent upstream, byte for byte. */
function tapSimFrames(sim: SimServer): string[] {
  const frames: string[] = [];
  sim.tapFrames((text) => frames.push(text));
  return frames;
}

async function connect(rig: DaemonRig, path = "/v1"): Promise<WsTestClient> {
  return cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:${path}`), (c) => c.close());
}

describe("local api - local WebSocket", () => {
  it("local api - answers authentication locally; the client's key never reaches upstream", async () => {
    const rig = await startRig(cleanup);
    const upstreamFrames = tapSimFrames(rig.sim);
    const c = await connect(rig);
    const session = await c.authenticate(CLIENT_KEY);
    expect(session).toMatch(UUID_V4);
    expect(session).not.toBe(rig.sim.counters.auths[0]!.sessionUUID);
    // A task after auth works over the daemon's own, already authenticated, link.
    const uuid = randomUUID();
    c.send([imageTask({ taskUUID: uuid, numberResults: 2 })]);
    expect(await c.itemsFor(uuid, 2)).toHaveLength(2);

    expect(rig.sim.counters.auths).toHaveLength(1); // the daemon's single authentication, before the client came
    expect(rig.sim.counters.connections).toBe(1);
    expect(upstreamFrames.some((f) => f.includes(uuid))).toBe(true);
    expect(upstreamFrames.some((f) => f.includes("authentication"))).toBe(false);
    expect(JSON.stringify(upstreamFrames)).not.toContain(CLIENT_KEY);
    expect(JSON.stringify(rig.sim.counters)).not.toContain(CLIENT_KEY);
  });

  it("local api - the official @runware/sdk-js works through the daemon by changing only its url", async () => {
    const rig = await startRig(cleanup);
    const upstreamFrames = tapSimFrames(rig.sim);
    // README "Pointing existing Runware clients at the daemon": ws's ws+unix form of the URL.
    const rw = new Runware({ apiKey: CLIENT_KEY, url: `ws+unix://${rig.socketPath}:/v1`, timeoutDuration: 10_000, globalMaxRetries: 1 });
    cleanup.defer(() => rw.disconnect());
    const images = await rw.requestImages({
      positivePrompt: "a red bicycle",
      model: "runware:101@1",
      width: 512,
      height: 512,
      numberResults: 2,
    });
    expect(images).toHaveLength(2);
    expect(new Set(images!.map((i) => i.imageUUID)).size).toBe(2);
    expect(images!.every((i) => i.imageURL?.startsWith(`${rig.sim.httpUrl}/image/`))).toBe(true);
    // Over the daemon's one authenticated link; the SDK's key went nowhere.
    expect(rig.sim.counters.connections).toBe(1);
    expect(rig.sim.counters.auths).toHaveLength(1);
    expect(JSON.stringify(upstreamFrames)).not.toContain(CLIENT_KEY);
  });

  it("local api - accepts sdk-js's path with a query string (/v1?sdk=js&version=1.3.2)", async () => {
    const rig = await startRig(cleanup);
    const c = await connect(rig, "/v1?sdk=js&version=1.3.2");
    expect(await c.authenticate(CLIENT_KEY)).toMatch(UUID_V4);
    const uuid = randomUUID();
    c.send([imageTask({ taskUUID: uuid })]);
    expect(await c.itemsFor(uuid, 1)).toEqual([expect.objectContaining({ taskUUID: uuid, taskType: "imageInference" })]);
  });

  it("local api - refuses a WebSocket on another path, and one from a browser", async () => {
    const rig = await startRig(cleanup);
    await expect(WsTestClient.connect(`ws+unix://${rig.socketPath}:/v2`)).rejects.toThrow(/404/);
    const fromPage = new Promise((resolve, reject) => {
      // ws sends an Origin header when told to, as a browser always does.
      void import("ws").then(({ WebSocket }) => {
        const ws = new WebSocket(`ws+unix://${rig.socketPath}:/v1`, { origin: "https://evil.example" });
        ws.once("open", () => {
          ws.terminate();
          reject(new Error("a browser-origin WebSocket was accepted"));
        });
        ws.once("error", (err) => resolve(err.message));
      });
    });
    expect(await fromPage).toMatch(/403/);
  });

  it("local api - answers ping with pong locally", async () => {
    const rig = await startRig(cleanup);
    const upstreamFrames = tapSimFrames(rig.sim);
    const pingsBefore = rig.sim.counters.pings;
    const c = await connect(rig);
    c.send([{ taskType: "ping", ping: true }]);
    const pong = await c.waitFor((f) => (f.data ?? []).some((i) => i["pong"] === true), { what: "a pong" });
    expect(pong).toEqual({ data: [{ taskType: "ping", pong: true }] });
    expect(rig.sim.counters.pings).toBe(pingsBefore);
    expect(upstreamFrames.some((f) => f.includes('"ping"'))).toBe(false);
  });

  it("local api - results go only to the connection that sent the task", async () => {
    const rig = await startRig(cleanup, { sim: { split: "each", workMs: 50 } });
    const a = await connect(rig);
    const b = await connect(rig);
    await a.authenticate(CLIENT_KEY);
    await b.authenticate("another-client-key");
    const aTasks = [randomUUID(), randomUUID()];
    const bTasks = [randomUUID(), randomUUID()];
    a.send(aTasks.map((taskUUID) => imageTask({ taskUUID, numberResults: 2 })));
    b.send(bTasks.map((taskUUID) => imageTask({ taskUUID, numberResults: 2 })));
    for (const u of aTasks) expect(await a.itemsFor(u, 2)).toHaveLength(2);
    for (const u of bTasks) expect(await b.itemsFor(u, 2)).toHaveLength(2);
    // Every task is settled in the daemon: anything it was going to send has been sent.
    await waitFor(() => [...aTasks, ...bTasks].every((u) => rig.daemon.service.lookup(u)?.state === "done"), "all tasks to settle");
    const uuidsSeen = (c: WsTestClient) =>
      new Set(
        c.frames
          .flatMap((f) => [...(f.data ?? []), ...(f.errors ?? [])])
          .map((i: Obj) => i["taskUUID"])
          .filter((u): u is string => typeof u === "string"),
      );
    expect([...uuidsSeen(a)].sort()).toEqual([...aTasks].sort());
    expect([...uuidsSeen(b)].sort()).toEqual([...bTasks].sort());
    expect(rig.sim.counters.connections).toBe(1); // both shared the one upstream link
  });

  it("local api - an async task is acknowledged, then the client's own getResponse returns its results", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 150 } });
    const c = await connect(rig);
    await c.authenticate(CLIENT_KEY);
    const uuid = randomUUID();
    c.send([imageTask({ taskUUID: uuid, numberResults: 2, deliveryMethod: "async" })]);
    const ack = await c.waitFor((f) => (f.data ?? []).some((i) => i["taskUUID"] === uuid), { what: "the async acknowledgement" });
    expect(ack.data).toEqual([expect.objectContaining({ taskType: "imageInference", taskUUID: uuid })]);
    expect(ack.data![0]!["imageURL"]).toBeUndefined();

    // Poll as a Runware client would, until getResponse says everything succeeded.
    const results = await waitFor(async () => {
      const from = c.mark();
      c.send([{ taskType: "getResponse", taskUUID: uuid }]);
      const reply = await c.waitFor((f) => (f.data ?? []).some((i) => i["taskUUID"] === uuid) || (f.errors ?? []).length > 0, { from });
      expect(reply.errors).toBeUndefined();
      const items = (reply.data ?? []).filter((i) => i["taskUUID"] === uuid);
      const success = items.filter((i) => i["status"] === "success");
      return success.length === 2 && !items.some((i) => i["status"] === "processing") ? success : undefined;
    }, "getResponse to return both results");
    for (const r of results) {
      expect(r["imageURL"]).toMatch(/\.png$/);
      expect(r["imageUUID"]).toMatch(UUID_V4);
    }
    // Each getResponse reply is the task's full current state in ONE frame (docs/protocol.md §4.2),
    // so a client reading the reply frame sees all its generations together.
    const from = c.mark();
    c.send([{ taskType: "getResponse", taskUUID: uuid }]);
    const reply = await c.waitFor((f) => (f.data ?? []).some((i) => i["taskUUID"] === uuid), { from, what: "a getResponse reply" });
    expect(reply.data).toHaveLength(2);
    expect(reply.data!.every((i) => i["status"] === "success" && i["taskUUID"] === uuid)).toBe(true);
    // Results were not pushed unasked: before any getResponse, the client saw only the ack.
    const firstPollIndex = c.frames.findIndex((f) => (f.data ?? []).some((i) => i["status"] !== undefined));
    expect(
      c.frames
        .slice(0, firstPollIndex)
        .flatMap((f) => f.data ?? [])
        .filter((i) => i["imageURL"]),
    ).toEqual([]);
  });
});
