/**
 * No input crashes the daemon (issue 11; docs/local-api.md §2.3, §2.4, §2.6): a real `runware
 * daemon` process gets a task nested 6,000 arrays deep by POST /v1 and by the local WebSocket, and
 * a result nested as deep from upstream (the simulator's `nestResults` hook). Each caller gets a
 * Runware-shaped answer for that task, other tasks finish, and the process keeps serving. And when
 * something does throw (the test-only RUNWARE_DAEMON_TEST_CRASH hook), the last resort answers
 * every waiting caller in doubt, removes the socket and exits 70.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, spawnDaemon, streamTasks, tempDir, type Child } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";

/** The request: 12 KB of JSON, one field nested 6,000 arrays deep. */
const DEPTH = 6_000;
const deepText = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
/** A task as JSON text with a `deep` field (text: JSON.stringify could not build it either). */
function deepTaskText(taskUUID: string): string {
  return `${JSON.stringify(imageTask({ taskUUID })).slice(0, -1)},"deep":${deepText(DEPTH)}}`;
}
/** Generous: a busy 2-core box starting node. */
const START_MS = 15_000;

const cleanup = new Cleanup();
let sim: SimServer;
let daemon: Child;
let socketPath: string;
let exited = false;

beforeAll(async () => {
  const dir = tempDir(cleanup, "rwd-edges-");
  socketPath = join(dir, "run", "daemon.sock");
  sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
  daemon = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
  void daemon.exited.then(() => (exited = true));
  await daemon.waitForLine("listening", START_MS);
  await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
});
afterAll(() => cleanup.run());

/** Still the same process, and a plain task runs end to end. */
async function expectServing(): Promise<void> {
  const uuid = randomUUID();
  const res = await postTasks(socketPath, [imageTask({ taskUUID: uuid, numberResults: 2 })]);
  expect(res.status, res.text).toBe(200);
  expect((res.json!["data"] as Obj[]).filter((d) => d["taskUUID"] === uuid)).toHaveLength(2);
  expect(exited, `the daemon exited: ${daemon.stderr()}`).toBe(false);
}

/** A task that stays in flight upstream until the simulator's work time is shortened again. */
async function taskInFlight(): Promise<{ uuid: string; answer: ReturnType<typeof postTasks> }> {
  sim.setWorkTime(600);
  const uuid = randomUUID();
  const answer = postTasks(socketPath, [imageTask({ taskUUID: uuid, numberResults: 2 })]);
  await waitFor(async () => (await getJson(socketPath, `/v1/tasks/${uuid}`)).json?.["state"] === "sent", "the slow task to be sent");
  sim.setWorkTime(5);
  return { uuid, answer };
}

describe("edges - a request nested past the depth limit", () => {
  it("edges - POST /v1 with a task nested 6,000 arrays deep: 400 naming the limit and the task; a task in flight finishes", async () => {
    const slow = await taskInFlight();
    const deepUUID = randomUUID();
    const body = `[${JSON.stringify(imageTask())},${deepTaskText(deepUUID)}]`;
    expect(body.length).toBeGreaterThan(12_000);
    const sentBefore = sim.counters.received[deepUUID];

    const res = await postTasks(socketPath, body);
    expect(res.status, res.text).toBe(400);
    expect(res.json).toEqual({
      errors: [
        {
          code: "invalidRequestBody",
          message: `task 1 (taskUUID ${deepUUID}) is nested deeper than 64 levels, the daemon's limit (maxJsonDepth)`,
          taskType: "imageInference",
          taskUUID: deepUUID,
        },
      ],
    });
    expect(sim.counters.received[deepUUID]).toBe(sentBefore); // nothing of the batch went upstream

    const done = await slow.answer;
    expect(done.status, done.text).toBe(200);
    expect((done.json!["data"] as Obj[]).filter((d) => d["taskUUID"] === slow.uuid)).toHaveLength(2);
    await expectServing();
  });

  it("edges - the local WebSocket: the deep task gets an error frame naming it, the connection and its other task carry on", async () => {
    const c = cleanup.add(await WsTestClient.connect(`ws+unix://${socketPath}:/v1`), (x) => x.close());
    await c.authenticate();
    sim.setWorkTime(300);
    const good = randomUUID();
    c.send([imageTask({ taskUUID: good, numberResults: 2 })]);
    await waitFor(async () => (await getJson(socketPath, `/v1/tasks/${good}`)).json?.["state"] === "sent", "the good task to be sent");
    sim.setWorkTime(5);

    const deep = randomUUID();
    c.sendRaw(`[${deepTaskText(deep)}]`);
    const err = await c.errorFor(deep);
    expect(err).toMatchObject({ code: "invalidRequestBody", taskUUID: deep, taskType: "imageInference" });
    expect(err["message"]).toContain("nested deeper than 64 levels");
    expect(await c.itemsFor(good, 2)).toHaveLength(2);
    expect(c.isOpen).toBe(true);
    expect(sim.counters.received[deep]).toBeUndefined();
    await expectServing();
  });
});

describe("edges - an upstream result nested past the depth limit", () => {
  /** The error every caller must get for the task whose reply was too deep. */
  const tooDeep = (taskUUID: string) => ({
    code: "invalidResponse",
    message: "Runware's reply for this task is nested deeper than 64 levels; the daemon does not pass it on",
    taskUUID,
    taskType: "imageInference",
  });

  it("edges - POST /v1: that task fails with invalidResponse, in the envelope; the task beside it succeeds", async () => {
    const deep = randomUUID();
    sim.nestResults(DEPTH, 1);
    const res = await postTasks(socketPath, [imageTask({ taskUUID: deep })]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.json).toEqual({ data: [], errors: [tooDeep(deep)] });
    expect((await getJson(socketPath, `/v1/tasks/${deep}`)).json).toMatchObject({ state: "failed", errors: [tooDeep(deep)] });
    await expectServing();
  });

  it("edges - an async task: the daemon's own getResponse poll meets the deep result and the task fails with invalidResponse", async () => {
    const deep = randomUUID();
    sim.nestResults(DEPTH, 1);
    const res = await postTasks(socketPath, [imageTask({ taskUUID: deep, deliveryMethod: "async" })]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.json!["errors"]).toEqual([tooDeep(deep)]);
    await expectServing();
  });

  it("edges - NDJSON: one error line for that task, and the done line's totals agree with the lines sent", async () => {
    const deep = randomUUID();
    const other = randomUUID();
    // The deep reply is the first item the simulator makes: send the deep task alone, then the other.
    sim.nestResults(DEPTH, 1);
    const first = streamTasks(socketPath, [imageTask({ taskUUID: deep })]);
    const lines = (await first.ended).map((l) => l.value);
    expect(lines).toEqual([{ errors: [tooDeep(deep)] }, { done: true, tasks: 1, completed: 0, failed: 1, inDoubt: 0, results: 0 }]);

    const second = (await streamTasks(socketPath, [imageTask({ taskUUID: other, numberResults: 3 })]).ended).map((l) => l.value);
    const dataLines = second.filter((l) => l["data"]);
    expect(second.at(-1)).toEqual({ done: true, tasks: 1, completed: 1, failed: 0, inDoubt: 0, results: dataLines.length });
    expect(dataLines).toHaveLength(3);
    await expectServing();
  });

  it("edges - the local WebSocket: the caller gets an invalidResponse error frame for that task", async () => {
    const c = cleanup.add(await WsTestClient.connect(`ws+unix://${socketPath}:/v1`), (x) => x.close());
    await c.authenticate();
    const deep = randomUUID();
    sim.nestResults(DEPTH, 1);
    c.send([imageTask({ taskUUID: deep })]);
    expect(await c.errorFor(deep)).toEqual(tooDeep(deep));
    expect(c.items(deep)).toEqual([]);
    const after = randomUUID();
    c.send([imageTask({ taskUUID: after })]);
    expect(await c.itemsFor(after, 1)).toHaveLength(1);
    expect(c.isOpen).toBe(true);
    await expectServing();
  });
});

describe("edges - the last resort after an uncaught error", () => {
  const local = new Cleanup();
  afterEach(() => local.run());

  /** A daemon that throws once `after` tasks are sent, against a simulator that never finishes a task. */
  async function crashingDaemon(kind: "exception" | "rejection", after: number, flags: Record<string, string> = {}) {
    const dir = tempDir(local, "rwd-crash-");
    const path = join(dir, "run", "daemon.sock");
    const s = local.add(await SimServer.start({ workMs: 60_000 }), (x) => x.close());
    const d = spawnDaemon(local, {
      upstream: s.url,
      socketPath: path,
      flags,
      env: { RUNWARE_API_KEY: "test-key", RUNWARE_DAEMON_TEST_CRASH: `${kind}:${after}` },
    });
    await d.waitForLine("listening", START_MS);
    await waitFor(async () => (await getJson(path, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
    return { d, path, dir };
  }

  /** Lines of the daemon's JSON log at pino's fatal level (60). */
  const fatalLines = (d: Child) =>
    d
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"level":60'));

  it("edges - an uncaught exception: HTTP, NDJSON and WebSocket callers each get taskInDoubt naming their task; the socket goes; exit 70", async () => {
    const { d, path } = await crashingDaemon("exception", 3);
    const [viaHttp, viaNdjson, viaWs] = [randomUUID(), randomUUID(), randomUUID()];
    const c = local.add(await WsTestClient.connect(`ws+unix://${path}:/v1`), (x) => x.close());
    await c.authenticate();
    const json = postTasks(path, [imageTask({ taskUUID: viaHttp })]);
    const nd = streamTasks(path, [imageTask({ taskUUID: viaNdjson })]);
    c.send([imageTask({ taskUUID: viaWs })]);

    const inDoubt = (taskUUID: string) => ({ code: "taskInDoubt", taskUUID, taskType: "imageInference" });
    const res = await json;
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ data: [], errors: [expect.objectContaining(inDoubt(viaHttp))] });
    expect(res.json!["errors"][0]["message"]).toContain("the daemon stopped (an internal error)");
    const lines = (await nd.ended).map((l) => l.value);
    expect(lines).toEqual([
      { errors: [expect.objectContaining(inDoubt(viaNdjson))] },
      { done: true, tasks: 1, completed: 0, failed: 0, inDoubt: 1, results: 0 },
    ]);
    expect(await c.errorFor(viaWs)).toMatchObject(inDoubt(viaWs));

    expect(await d.exited).toEqual({ code: 70, signal: null });
    expect(existsSync(path)).toBe(false);
    const fatal = fatalLines(d);
    expect(fatal, d.stdout()).toHaveLength(1);
    expect(fatal[0]).toContain("RUNWARE_DAEMON_TEST_CRASH=exception:3");
    expect(fatal[0]).toContain('"pending":3');
  });

  it("edges - an unhandled rejection: the task sent is in doubt, the one still queued is aborted, in one answer; exit 70", async () => {
    const { d, path, dir } = await crashingDaemon("rejection", 1, { "max-in-flight": "1" });
    const [sent, queued] = [randomUUID(), randomUUID()];
    const res = await postTasks(path, [imageTask({ taskUUID: sent }), imageTask({ taskUUID: queued })]);
    expect(res.status, res.text).toBe(200);
    expect(res.json!["data"]).toEqual([]);
    expect((res.json!["errors"] as Obj[]).map((e) => [e["taskUUID"], e["code"]])).toEqual([
      [sent, "taskInDoubt"],
      [queued, "taskAborted"],
    ]);
    expect(await d.exited).toEqual({ code: 70, signal: null });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(dir, "run", "daemon.pid"))).toBe(false);
    expect(fatalLines(d)).toHaveLength(1);
  });
});
