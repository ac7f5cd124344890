/**
 * `POST /v1` (docs/local-api.md §2.1, §2.2): the default answer in Runware's envelope, and the NDJSON stream.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, startRig, streamTasks, UUID_V4 } from "../helpers/daemon.js";
import { waitFor } from "../helpers/wait.js";
import { imageTask } from "../helpers/engine.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("local api - POST /v1 default answer", () => {
  it("local api - answers 200 {data} with every numberResults item of every task, and no errors key", async () => {
    const { socketPath } = await startRig(cleanup, { sim: { split: "each" } });
    const a = randomUUID();
    const b = randomUUID();
    const res = await postTasks(socketPath, [imageTask({ taskUUID: a, numberResults: 3 }), imageTask({ taskUUID: b, numberResults: 2 })]);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(Object.keys(res.json!)).toEqual(["data"]);
    const data = res.json!["data"] as Array<Record<string, unknown>>;
    expect(data).toHaveLength(5);
    expect(data.filter((d) => d["taskUUID"] === a)).toHaveLength(3);
    expect(data.filter((d) => d["taskUUID"] === b)).toHaveLength(2);
    for (const d of data) {
      expect(d["taskType"]).toBe("imageInference");
      expect(d["imageUUID"]).toMatch(UUID_V4);
      expect(String(d["imageURL"])).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/image\/.+\.png$/);
    }
    expect(new Set(data.map((d) => d["imageUUID"])).size).toBe(5);
  });

  it("local api - assigns a UUID v4 to a task sent without taskUUID and carries it in the answer", async () => {
    const { socketPath, sim, daemon } = await startRig(cleanup);
    const res = await postTasks(socketPath, [imageTask({ numberResults: 2 }), imageTask({ width: 100 })]);
    expect(res.status).toBe(200);
    const data = res.json!["data"] as Array<Record<string, unknown>>;
    expect(data).toHaveLength(2);
    const uuid = data[0]!["taskUUID"] as string;
    expect(uuid).toMatch(UUID_V4);
    expect(data[1]!["taskUUID"]).toBe(uuid);
    // A failed task's error carries its assigned UUID too, a different one.
    const errors = res.json!["errors"] as Array<Record<string, unknown>>;
    const failed = errors[0]!["taskUUID"] as string;
    expect(failed).toMatch(UUID_V4);
    expect(failed).not.toBe(uuid);
    // Those UUIDs are the ones that went upstream, and the ones the tasks are readable under.
    expect(sim.counters.received).toEqual({ [uuid]: 1, [failed]: 1 });
    expect(daemon.service.lookup(uuid)?.state).toBe("done");
    expect(daemon.service.lookup(failed)?.state).toBe("failed");
  });

  it("local api - a batch with one valid and one invalid imageInference is a partial success: 200 with data and errors", async () => {
    const { socketPath, daemon } = await startRig(cleanup);
    const good = randomUUID();
    const bad = randomUUID();
    const res = await postTasks(socketPath, [imageTask({ taskUUID: good, numberResults: 2 }), imageTask({ taskUUID: bad, width: 100 })]);
    expect(res.status).toBe(200);
    const data = res.json!["data"] as Array<Record<string, unknown>>;
    const errors = res.json!["errors"] as Array<Record<string, unknown>>;
    expect(data).toHaveLength(2);
    expect(data.every((d) => d["taskUUID"] === good && d["taskType"] === "imageInference")).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "invalidWidth", parameter: "width", taskUUID: bad, taskType: "imageInference" });
    expect(typeof errors[0]!["message"]).toBe("string");
    expect(daemon.engine.stats().tasks).toMatchObject({ completed: 1, failed: 1 });
  });
});

describe("local api - POST /v1 endings", () => {
  it("local api - a task that outlasts --task-timeout-ms ends with a taskTimeout error, not a hang", async () => {
    const timeoutMs = 300;
    const { socketPath } = await startRig(cleanup, { sim: { workMs: 5_000 }, flags: { "task-timeout-ms": String(timeoutMs) } });
    const uuid = randomUUID();
    const started = Date.now();
    const res = await postTasks(socketPath, [imageTask({ taskUUID: uuid })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeoutMs * 0.9);
    expect(res.status).toBe(200);
    expect(res.json!["data"]).toEqual([]);
    expect(res.json!["errors"]).toEqual([expect.objectContaining({ code: "taskTimeout", taskUUID: uuid, taskType: "imageInference" })]);
  });

  it("local api - with a rejected API key, status says auth-failed and tasks fail at once with invalidApiKey", async () => {
    const { socketPath, sim } = await startRig(cleanup, {
      sim: { rejectedKeys: ["rejected-fake-key"] },
      apiKey: "rejected-fake-key",
      ready: false,
    });
    await waitFor(async () => (await getJson(socketPath, "/v1/status")).json!["upstream"].state === "auth-failed", "auth-failed");
    const uuid = randomUUID();
    const res = await postTasks(socketPath, [imageTask({ taskUUID: uuid })]);
    expect(res.json!["errors"]).toEqual([expect.objectContaining({ code: "invalidApiKey", taskUUID: uuid })]);
    expect(res.text).not.toContain("rejected-fake-key");
    expect(sim.counters.received[uuid]).toBeUndefined();
    expect(sim.counters.auths).toHaveLength(0);
  });
});

describe("local api - POST /v1 NDJSON stream", () => {
  it("local api - streams Runware-shaped lines as results happen and ends with exactly one done line", async () => {
    // Items of a 4-result task finish at 1/4, 2/4, 3/4 and 4/4 of workMs; the 1-result task at 4/4.
    const workMs = 400;
    const { socketPath, daemon } = await startRig(cleanup, { sim: { split: "each", workMs } });
    const slow = randomUUID();
    const many = randomUUID();
    const bad = randomUUID();
    const stream = streamTasks(socketPath, [
      imageTask({ taskUUID: slow, numberResults: 1 }),
      imageTask({ taskUUID: many, numberResults: 4 }),
      imageTask({ taskUUID: bad, height: 100 }),
    ]);
    // What the daemon itself says about the 1-result task at the moment the first data line arrives.
    let slowStateAtFirstData: string | undefined;
    stream.onLine((l) => {
      if (slowStateAtFirstData === undefined && l.value["data"]) slowStateAtFirstData = daemon.service.lookup(slow)?.state;
    });
    expect(await stream.status).toBe(200);
    expect((await stream.headers)["content-type"]).toBe("application/x-ndjson");
    const lines = await stream.ended;

    // Results arrived while another task of the batch was still running upstream.
    expect(slowStateAtFirstData).toBe("sent");
    const firstData = lines.find((l) => l.value["data"])!;
    const slowLine = lines.find((l) => (l.value["data"] ?? []).some((d: Record<string, unknown>) => d["taskUUID"] === slow))!;
    expect(slowLine.at - firstData.at).toBeGreaterThan(workMs / 4);

    const last = lines.at(-1)!.value;
    expect(last).toMatchObject({ done: true, tasks: 3, completed: 2, failed: 1, inDoubt: 0, results: 5 });
    // The done line is not a frame: a reader that treats any `data`/`errors` key as a frame must not trip.
    expect(last).not.toHaveProperty("data");
    expect(last).not.toHaveProperty("errors");
    expect(lines.filter((l) => l.value["done"] !== undefined)).toHaveLength(1);
    for (const { value } of lines.slice(0, -1)) {
      // Every other line is a Runware frame: {data:[...]} or {errors:[...]}, nothing else.
      expect(Object.keys(value).length).toBe(1);
      const key = Object.keys(value)[0]!;
      expect(["data", "errors"]).toContain(key);
      expect(Array.isArray(value[key])).toBe(true);
      for (const entry of value[key] as Array<Record<string, unknown>>) {
        expect([slow, many, bad]).toContain(entry["taskUUID"]);
        expect(entry["taskType"]).toBe("imageInference");
      }
    }
    const items = lines.flatMap((l) => (l.value["data"] ?? []) as Array<Record<string, unknown>>);
    expect(items.filter((d) => d["taskUUID"] === many)).toHaveLength(4);
    expect(items.filter((d) => d["taskUUID"] === slow)).toHaveLength(1);
    const errors = lines.flatMap((l) => (l.value["errors"] ?? []) as Array<Record<string, unknown>>);
    expect(errors).toEqual([expect.objectContaining({ code: "invalidHeight", taskUUID: bad })]);
    expect(stream.raw().endsWith("}\n")).toBe(true);
  });
});
