/**
 * Issue 16, first part: every caller's label (the `Runware-Label` header, the local WebSocket's
 * `label` query parameter), bounded in length and number; and `includeCost` asked upstream for
 * every task that reports a cost, `cost` shown only to callers who asked for it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { AcceptedTask } from "../../src/upstream/options.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, startRig, type DaemonRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";
import WebSocket from "ws";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function acceptedTasks(rig: DaemonRig): AcceptedTask[] {
  const seen: AcceptedTask[] = [];
  rig.daemon.engine.on("accepted", (t) => seen.push(t));
  return seen;
}

/** The `data` (or `errors`) array of a JSON answer; a missing one fails the test. */
function list(json: Obj | undefined, key: "data" | "errors"): Obj[] {
  const v = json?.[key];
  if (!Array.isArray(v)) throw new Error(`the answer has no ${key} array: ${JSON.stringify(json)}`);
  return v as Obj[];
}

function simFrames(rig: DaemonRig): string[] {
  const frames: string[] = [];
  rig.sim.tapFrames((text) => frames.push(text));
  return frames;
}

/** The upgrade's HTTP answer when the daemon refuses it. */
function refusedUpgrade(rig: DaemonRig, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${rig.socketPath}:${path}`);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (b: Buffer) => (body += b.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => {
      ws.close();
      reject(new Error("the upgrade was accepted"));
    });
    ws.on("error", () => undefined);
  });
}

describe("labels and cost", () => {
  it("cost - a caller who did not ask sees no cost, one who asked does; upstream is asked for it every time", async () => {
    const rig = await startRig(cleanup);
    const frames = simFrames(rig);
    const plain = await postTasks(rig.socketPath, [imageTask()]);
    const asked = await postTasks(rig.socketPath, [imageTask({ includeCost: true })]);
    const plainItem = list(plain.json, "data")[0]!;
    const askedItem = list(asked.json, "data")[0]!;
    expect(plainItem["imageURL"]).toBeTypeOf("string");
    expect(plainItem).not.toHaveProperty("cost");
    expect(askedItem["cost"]).toBeGreaterThan(0);
    const sent = frames.flatMap((f) => JSON.parse(f) as Obj[]).filter((t) => t["taskType"] === "imageInference");
    expect(sent).toHaveLength(2);
    for (const t of sent) expect(t["includeCost"]).toBe(true);
    // The lookup keeps the caller's choice too.
    const uuid = plainItem["taskUUID"] as string;
    const looked = await getJson(rig.socketPath, `/v1/tasks/${uuid}`);
    expect(looked.status).toBe(200);
    expect(list(looked.json, "data")[0]).not.toHaveProperty("cost");
  });

  it("cost - a task type that reports no cost is sent as the caller wrote it", async () => {
    const rig = await startRig(cleanup);
    const frames = simFrames(rig);
    const r = await postTasks(rig.socketPath, [{ taskType: "modelSearch", search: "flux" }]);
    expect(r.status).toBe(200);
    const sent = frames.flatMap((f) => JSON.parse(f) as Obj[]).filter((t) => t["taskType"] === "modelSearch");
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toHaveProperty("includeCost");
  });

  it("labels - the Runware-Label header names the HTTP caller; none is unlabelled", async () => {
    const rig = await startRig(cleanup);
    const seen = acceptedTasks(rig);
    expect((await postTasks(rig.socketPath, [imageTask()], { "runware-label": "nightly-batch.py" })).status).toBe(200);
    expect((await postTasks(rig.socketPath, [imageTask()])).status).toBe(200);
    expect(seen.map((t) => t.label)).toEqual(["nightly-batch.py", "unlabelled"]);
  });

  it("labels - the label query parameter names a local WebSocket caller", async () => {
    const rig = await startRig(cleanup);
    const seen = acceptedTasks(rig);
    const c = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1?label=comfy-node`), (x) => x.close());
    await c.authenticate();
    const taskUUID = randomUUID();
    c.send([{ ...imageTask(), taskUUID }]);
    const [item] = await c.itemsFor(taskUUID, 1);
    expect(item).not.toHaveProperty("cost");
    expect(seen.map((t) => t.label)).toEqual(["comfy-node"]);
  });

  it("labels - too long, not printable or given twice is refused with invalidLabel, and nothing goes upstream", async () => {
    const rig = await startRig(cleanup);
    const frames = simFrames(rig);
    const long = await postTasks(rig.socketPath, [imageTask()], { "runware-label": "x".repeat(65) });
    expect(long.status).toBe(400);
    expect(list(long.json, "errors")[0]?.["code"]).toBe("invalidLabel");
    const odd = await postTasks(rig.socketPath, [imageTask()], { "runware-label": "caf\u00e9" });
    expect(odd.status).toBe(400);
    const twice = await refusedUpgrade(rig, "/v1?label=a&label=b");
    expect(twice.status).toBe(400);
    expect(twice.body).toContain("invalidLabel");
    expect(frames.filter((f) => f.includes("imageInference"))).toEqual([]);
  });

  it("labels - past maxLabels a new label is refused with tooManyLabels; known ones still work", async () => {
    const rig = await startRig(cleanup, { settings: { maxLabels: 3 } }); // unlabelled + two
    for (const label of ["a", "b"]) expect((await postTasks(rig.socketPath, [imageTask()], { "runware-label": label })).status).toBe(200);
    const third = await postTasks(rig.socketPath, [imageTask()], { "runware-label": "c" });
    expect(third.status).toBe(400);
    expect(list(third.json, "errors")[0]?.["code"]).toBe("tooManyLabels");
    expect((await postTasks(rig.socketPath, [imageTask()], { "runware-label": "a" })).status).toBe(200);
    expect((await refusedUpgrade(rig, "/v1?label=d")).status).toBe(400);
  });
});
