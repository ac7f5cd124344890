/**
 * Every refusal of docs/local-api.md §2.3 and §2.7: the right status, a Runware-shaped error, nothing sent upstream, and
 * a daemon that still serves the next good request.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Cleanup } from "../helpers/cleanup.js";
import { postTasks, request, startRig, submissions, type DaemonRig, type Reply } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The answer is `{errors:[{code, message, ...}]}` with this status and code, and nothing else. */
function expectRefusal(res: Reply, status: number, code: string): Record<string, unknown> {
  expect(res.status, res.text).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(Object.keys(res.json!)).toEqual(["errors"]);
  const errors = res.json!["errors"] as Array<Record<string, unknown>>;
  expect(errors).toHaveLength(1);
  expect(errors[0]!["code"]).toBe(code);
  expect(typeof errors[0]!["message"]).toBe("string");
  expect(String(errors[0]!["message"]).length).toBeGreaterThan(0);
  return errors[0]!;
}

/** Nothing reached the simulator, and a good request right after is served in full. */
async function expectNothingSentThenServes(rig: DaemonRig, before = 0): Promise<void> {
  expect(submissions(rig.sim)).toBe(before);
  rig.sim.setWorkTime(5);
  const uuid = randomUUID();
  const ok = await postTasks(rig.socketPath, [imageTask({ taskUUID: uuid, numberResults: 2 })]);
  expect(ok.status).toBe(200);
  expect(ok.json!["data"]).toHaveLength(2);
  expect(rig.sim.counters.received[uuid]).toBe(1);
}

interface Case {
  name: string;
  /** Sent as is when a string, else as JSON. */
  body: unknown;
  status: number;
  code: string;
  extra?: Record<string, unknown>;
}

const DUP = randomUUID();

const CASES: Case[] = [
  { name: "a body that is not JSON", body: '[{"taskType": "imageInference",', status: 400, code: "invalidRequestBody" },
  { name: "a body that is not an array", body: imageTask(), status: 400, code: "invalidRequestBody" },
  { name: "an empty array", body: [], status: 400, code: "invalidRequestBody" },
  { name: "an element that is not an object", body: [imageTask(), 42], status: 400, code: "invalidRequestBody" },
  { name: "an element that is an array", body: [[imageTask()]], status: 400, code: "invalidRequestBody" },
  {
    name: "a task without taskType",
    body: [{ positivePrompt: "x" }],
    status: 400,
    code: "missingTaskType",
    extra: { parameter: "taskType" },
  },
  { name: "a task whose taskType is not a string", body: [imageTask({ taskType: 7 })], status: 400, code: "missingTaskType" },
  {
    name: "a taskUUID that is not a UUID",
    body: [imageTask({ taskUUID: "not-a-uuid" })],
    status: 400,
    code: "invalidTaskUUID",
    extra: { parameter: "taskUUID", taskType: "imageInference" },
  },
  {
    name: "the same taskUUID twice in one batch",
    body: [imageTask({ taskUUID: DUP }), imageTask({ taskUUID: DUP })],
    status: 409,
    code: "conflictTaskUUID",
    extra: { taskUUID: DUP, parameter: "taskUUID" },
  },
  {
    name: "an authentication task",
    body: [{ taskType: "authentication", apiKey: "client-key" }],
    status: 400,
    code: "unsupportedTaskType",
  },
];

describe("local api - refusals of POST /v1", () => {
  for (const c of CASES) {
    it(`local api - refuses ${c.name} (${c.status} ${c.code}), sends nothing upstream, then serves`, async () => {
      const rig = await startRig(cleanup);
      // A valid task in the same batch must not be sent either: the batch is refused as a whole.
      const res = await postTasks(rig.socketPath, c.body);
      const err = expectRefusal(res, c.status, c.code);
      if (c.extra) expect(err).toMatchObject(c.extra);
      await expectNothingSentThenServes(rig);
    });
  }

  it("local api - refuses before streaming: an NDJSON request gets the same status and JSON error", async () => {
    const rig = await startRig(cleanup);
    const res = await request(rig.socketPath, "/v1", { method: "POST", body: [], headers: { accept: "application/x-ndjson" } });
    expectRefusal(res, 400, "invalidRequestBody");
    await expectNothingSentThenServes(rig);
  });

  it("local api - refuses deliveryMethod stream (REST-only server-sent events) before sending, saying to use sync or async", async () => {
    const rig = await startRig(cleanup);
    const text = { taskType: "textInference", taskUUID: randomUUID(), model: "runware:text@1", deliveryMethod: "stream", messages: [] };
    const res = await postTasks(rig.socketPath, [imageTask(), text]);
    const err = expectRefusal(res, 400, "unsupportedDeliveryMethod");
    expect(err).toMatchObject({ parameter: "deliveryMethod", taskType: "textInference" });
    expect(err["message"]).toMatch(/REST API.*omit deliveryMethod.*"async"/);
    await expectNothingSentThenServes(rig);
  });

  it("local api - refuses an apiKey field nested anywhere (400) and never echoes its value", async () => {
    const rig = await startRig(cleanup);
    const secret = "nested-fake-key-4242";
    const res = await postTasks(rig.socketPath, [imageTask(), imageTask({ lora: [{ model: "runware:1@1", extra: { apiKey: secret } }] })]);
    const err = expectRefusal(res, 400, "unsupportedParameter");
    expect(err["parameter"]).toBe("apiKey");
    expect(res.text).not.toContain(secret);
    const top = await postTasks(rig.socketPath, [imageTask({ apiKey: secret })]);
    expectRefusal(top, 400, "unsupportedParameter");
    expect(top.text).not.toContain(secret);
    await expectNothingSentThenServes(rig);
  });

  it("local api - refuses a body over the size limit with 413, declared or streamed", async () => {
    const rig = await startRig(cleanup, { settings: { maxBodyBytes: 1024 } });
    const big = [imageTask({ positivePrompt: "x".repeat(2000) })];
    expectRefusal(await postTasks(rig.socketPath, big), 413, "payloadTooLarge");
    // Without a content-length the limit is enforced as the bytes arrive.
    expectRefusal(await request(rig.socketPath, "/v1", { method: "POST", body: big, chunked: true }), 413, "payloadTooLarge");
    await expectNothingSentThenServes(rig);
  });

  it("local api - refuses a request from a browser (Origin header) with 403", async () => {
    const rig = await startRig(cleanup);
    const res = await request(rig.socketPath, "/v1", { method: "POST", body: [imageTask()], headers: { origin: "https://evil.example" } });
    expectRefusal(res, 403, "forbiddenOrigin");
    const status = await request(rig.socketPath, "/v1/status", { headers: { origin: "http://localhost:3000" } });
    expectRefusal(status, 403, "forbiddenOrigin");
    await expectNothingSentThenServes(rig);
  });

  it("local api - answers 404 for an unknown path and 405 (with Allow) for a wrong method", async () => {
    const rig = await startRig(cleanup);
    expectRefusal(await request(rig.socketPath, "/v2", { method: "POST", body: [imageTask()] }), 404, "notFound");
    expectRefusal(await request(rig.socketPath, "/v1/nothing/here"), 404, "notFound");
    const get = await request(rig.socketPath, "/v1");
    expectRefusal(get, 405, "methodNotAllowed");
    expect(get.headers["allow"]).toBe("POST");
    const del = await request(rig.socketPath, "/v1/status", { method: "DELETE" });
    expectRefusal(del, 405, "methodNotAllowed");
    expect(del.headers["allow"]).toBe("GET");
    expectRefusal(await request(rig.socketPath, `/v1/tasks/${randomUUID()}`, { method: "POST", body: {} }), 405, "methodNotAllowed");
    await expectNothingSentThenServes(rig);
  });

  it("local api - refuses a taskUUID already in flight with 409 conflictTaskUUID and does not send it again", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 300 } });
    const uuid = randomUUID();
    const first = postTasks(rig.socketPath, [imageTask({ taskUUID: uuid })]);
    await waitFor(() => rig.sim.counters.received[uuid] === 1, "the first task to reach the simulator");
    const again = await postTasks(rig.socketPath, [imageTask({ taskUUID: uuid })]);
    expect(expectRefusal(again, 409, "conflictTaskUUID")).toMatchObject({ taskUUID: uuid });
    const ok = await first;
    expect(ok.status).toBe(200);
    expect(ok.json!["data"]).toHaveLength(1);
    expect(rig.sim.counters.received[uuid]).toBe(1);
    await expectNothingSentThenServes(rig, 1);
  });

  it("local api - answers 429 queueFull when the queue is full, never dropping, and serves once it drains", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 500 }, flags: { "max-in-flight": "1", "max-queued": "1" } });
    const running = randomUUID();
    const waiting = randomUUID();
    const a = postTasks(rig.socketPath, [imageTask({ taskUUID: running })]);
    await waitFor(() => rig.sim.counters.received[running] === 1, "the first task to be in flight");
    const b = postTasks(rig.socketPath, [imageTask({ taskUUID: waiting })]);
    await waitFor(() => rig.daemon.engine.stats().tasks.queued === 1, "the second task to be queued");
    const refused = randomUUID();
    const full = await postTasks(rig.socketPath, [imageTask({ taskUUID: refused })]);
    expectRefusal(full, 429, "queueFull");
    expect(full.headers["retry-after"]).toBeDefined();
    expect(rig.daemon.service.lookup(refused)).toBeUndefined();
    // The two accepted tasks still complete in full.
    expect((await a).json!["data"]).toHaveLength(1);
    expect((await b).json!["data"]).toHaveLength(1);
    expect(rig.sim.counters.received[refused]).toBeUndefined();
    expect(rig.sim.counters.maxOutstanding).toBe(1);
    await expectNothingSentThenServes(rig, 2);
  });

  it("local api - answers 503 while draining, and the task in flight still gets its full answer", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 600 }, flags: { "drain-timeout-ms": "5000" } });
    const uuid = randomUUID();
    const inFlight = postTasks(rig.socketPath, [imageTask({ taskUUID: uuid, numberResults: 2 })]);
    await waitFor(() => rig.sim.counters.received[uuid] === 1, "the task to reach the simulator");
    const stopped = rig.daemon.stop("test drain");
    const late = randomUUID();
    const res = await postTasks(rig.socketPath, [imageTask({ taskUUID: late })]);
    expectRefusal(res, 503, "draining");
    expect(res.headers["retry-after"]).toBeDefined();
    expect((await request(rig.socketPath, "/v1/status")).json!["upstream"].state).toBe("draining");
    const ok = await inFlight;
    expect(ok.status).toBe(200);
    expect(ok.json!["data"]).toHaveLength(2);
    await stopped;
    expect(rig.sim.counters.received[late]).toBeUndefined();
    expect(submissions(rig.sim)).toBe(1);
  });
});
