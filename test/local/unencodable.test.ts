/**
 * Every local client gets an answer for every task even when a reply from Runware cannot be encoded
 * as JSON again (docs/local-api.md §2.1, §2.2, §2.6): the last line of defence behind the inbound
 * depth check. The local side runs in-process over an engine whose link the test drives
 * (FakeLink), so a result nested far too deep for JSON.stringify reaches the encoders as it is.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Server } from "node:http";
import { silentLogger } from "../../src/log.js";
import { splitFrame } from "../../src/protocol/codec.js";
import { ByteBudget } from "../../src/local/budget.js";
import { createLocalServer } from "../../src/local/server.js";
import { TaskService } from "../../src/local/service.js";
import { Ledger } from "../../src/local/ledger/ledger.js";
import { ResultStore } from "../../src/local/store.js";
import { UnsentBudget } from "../../src/local/unsent.js";
import { LocalWebSocket } from "../../src/local/wsapi.js";
import { defaultSettings, statusLimits } from "../../src/local/config.js";
import { UpstreamEngine } from "../../src/upstream/engine.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, streamTasks, tempDir } from "../helpers/daemon.js";
import { FAST, imageTask } from "../helpers/engine.js";
import { FakeLink } from "../helpers/fake-link.js";
import { WsTestClient } from "../helpers/ws-client.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

let link: FakeLink;
let socketPath: string;

beforeEach(async () => {
  link = new FakeLink();
  const engine = new UpstreamEngine({ ...FAST, url: "ws://unused.invalid", apiKey: "test-key" }, link);
  engine.start();
  link.up();
  cleanup.defer(() => engine.close("test over"));
  const store = new ResultStore({ retentionMs: 60_000, maxEntries: 100, maxBytes: 1024 * 1024, maxMarkers: 100 });
  const cfg = defaultSettings();
  const ledger = new Ledger(engine, cfg, silentLogger);
  cleanup.defer(() => ledger.close());
  const service = new TaskService(engine, store, ledger);
  service.opened();
  const budgets = { reading: new ByteBudget(cfg.maxReadingBytes), unsent: new UnsentBudget(cfg.maxClientUnsentBytes, cfg.maxUnsentBytes) };
  const ws = new LocalWebSocket(service, silentLogger, cfg, budgets);
  const server: Server = createLocalServer(service, ws, { ...cfg, ...budgets, limits: statusLimits(cfg), logger: silentLogger });
  socketPath = join(tempDir(cleanup), "d.sock");
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanup.defer(
    () =>
      new Promise<void>((resolve) => {
        ws.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
});

/** Far deeper than JSON.stringify can go. */
function tooDeep(): unknown {
  let v: unknown = 1;
  for (let i = 0; i < 200_000; i++) v = [v];
  return v;
}

/** Once the task is sent, Runware "answers" one good result and one that cannot be encoded. */
async function answerBadly(taskUUID: string): Promise<void> {
  await waitFor(() => link.sentFor(taskUUID).length > 0, "the task to be sent");
  const item = (n: number) => ({ taskType: "imageInference", taskUUID, imageUUID: randomUUID(), imageURL: `http://x/${n}.png` });
  const frame = splitFrame(JSON.stringify({ data: [item(1), item(2)] }));
  // After the codec (and its depth check): the last line of defence is what is tested here.
  const bad = frame.tasks.get(taskUUID)!.items[1]!;
  bad["nested"] = tooDeep();
  link.emit("frame", frame);
}

const expectedError = (taskUUID: string) => expect.objectContaining({ code: "invalidResponse", taskUUID, taskType: "imageInference" });

describe("local api - replies that cannot be encoded", () => {
  it("unencodable - a JSON answer leaves the item out and names it in errors; the task's lookup too", async () => {
    const taskUUID = randomUUID();
    const answer = postTasks(socketPath, [imageTask({ taskUUID, numberResults: 2 })]);
    await answerBadly(taskUUID);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.json!["data"]).toEqual([expect.objectContaining({ taskUUID, imageURL: "http://x/1.png" })]);
    expect(res.json!["errors"]).toEqual([expectedError(taskUUID)]);
    const lookup = await getJson(socketPath, `/v1/tasks/${taskUUID}`);
    expect(lookup.status).toBe(200);
    expect(lookup.json!["data"]).toHaveLength(1);
    expect(lookup.json!["errors"]).toEqual([expectedError(taskUUID)]);
  });

  it("unencodable - an NDJSON stream sends an error line for the task, and its done line counts the lines sent", async () => {
    const taskUUID = randomUUID();
    const stream = streamTasks(socketPath, [imageTask({ taskUUID, numberResults: 2 })]);
    await answerBadly(taskUUID);
    const lines = (await stream.ended).map((l) => l.value);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({ data: [expect.objectContaining({ imageURL: "http://x/1.png" })] });
    expect(lines[1]).toEqual({ errors: [expectedError(taskUUID)] });
    expect(lines[2]).toEqual({ done: true, tasks: 1, completed: 0, failed: 1, inDoubt: 0, results: 1 });
  });

  it("unencodable - a local WebSocket client gets the good item, then an errors frame for the task", async () => {
    const ws = cleanup.add(await WsTestClient.connect(`ws+unix://${socketPath}:/v1`), (c) => c.ws.terminate());
    const taskUUID = randomUUID();
    ws.send(imageTask({ taskUUID, numberResults: 2 }));
    await answerBadly(taskUUID);
    const errors = await ws.waitFor((f) => f.errors !== undefined);
    expect(errors.errors).toEqual([expectedError(taskUUID)]);
    expect(ws.items(taskUUID)).toEqual([expect.objectContaining({ imageURL: "http://x/1.png" })]);
  });
});
