/**
 * Issue 16: the history, spend and the budget, with real daemon processes and the simulator's
 * costs (SIM_CONSTANTS.costPerImage per image). History: filters, paging, one entry in full.
 * Spend: by label, tasks without a cost counted apart, the same right after a restart. Budget: the
 * first task after the cap is reached is refused (402 budgetExceeded), nothing before it, also
 * after a restart without the flag; free tasks still run.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SimServer } from "../../src/sim/index.js";
import { SIM_CONSTANTS } from "../../src/sim/limits.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, spawnDaemon, startRig, submissions, tempDir, type Child } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import { webhookServer } from "../helpers/webhook.js";
import { WsTestClient, type Obj } from "../helpers/ws-client.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const START_MS = 15_000;
const IMAGE_USD = SIM_CONSTANTS.costPerImage;

interface Place {
  socketPath: string;
  stateDir: string;
}

function place(): Place {
  const dir = tempDir(cleanup, "rwd-history-");
  return { socketPath: join(dir, "run", "daemon.sock"), stateDir: join(dir, "state") };
}

async function daemonOn(sim: SimServer, p: Place, flags: Record<string, string> = {}): Promise<Child> {
  const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath: p.socketPath, flags: { "state-dir": p.stateDir, ...flags } });
  await d.waitForLine("listening", START_MS);
  await waitFor(async () => (await getJson(p.socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
  return d;
}

async function kill9(d: Child): Promise<void> {
  d.child.kill("SIGKILL");
  await d.exited;
}

async function post(p: Place, tasks: Obj[], label?: string): Promise<{ status: number; json: Obj | undefined }> {
  const r = await postTasks(p.socketPath, tasks, label ? { "runware-label": label } : {});
  return { status: r.status, json: r.json };
}

async function history(p: Place, query = ""): Promise<{ entries: Obj[]; nextCursor?: string }> {
  const r = await getJson(p.socketPath, `/v1/history${query}`);
  expect(r.status, r.text).toBe(200);
  return r.json as { entries: Obj[]; nextCursor?: string };
}

async function spend(p: Place): Promise<Obj> {
  return (await getJson(p.socketPath, "/v1/status")).json?.["spend"] as Obj;
}

function firstError(json: Obj | undefined): Obj | undefined {
  return (json?.["errors"] as Obj[] | undefined)?.[0];
}

describe("history, spend and budget", () => {
  it("history - lists finished tasks newest first, filtered by label, task type and time, a page at a time; one in full", async () => {
    const p = place();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    await daemonOn(sim, p);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = imageTask({ taskUUID: randomUUID(), seed: 100 + i, positivePrompt: `fox ${i}` });
      sent.push(t["taskUUID"] as string);
      expect((await post(p, [t], "batch-a")).status).toBe(200);
    }
    for (let i = 0; i < 2; i++) {
      const t = imageTask({ taskUUID: randomUUID(), seed: 200 + i });
      sent.push(t["taskUUID"] as string);
      expect((await post(p, [t], "batch-b")).status).toBe(200);
    }
    expect((await post(p, [{ taskType: "modelSearch", search: "flux" }], "batch-b")).status).toBe(200);

    const all = await history(p);
    expect(all.entries).toHaveLength(8);
    expect(all.nextCursor).toBeUndefined();
    expect(all.entries[0]).toMatchObject({ taskType: "modelSearch", label: "batch-b", state: "done" });
    expect(all.entries.slice(1).map((e) => e["taskUUID"])).toEqual([...sent].reverse());
    const newestImage = all.entries[1]!;
    expect(newestImage).toMatchObject({ taskType: "imageInference", model: "runware:101@1", seed: 201, cost: IMAGE_USD, state: "done" });
    expect((newestImage["outputs"] as string[])[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+\.png$/);
    expect(newestImage["durationMs"]).toBeGreaterThanOrEqual(0);
    expect(newestImage).not.toHaveProperty("input"); // a list shows summaries

    const a = await history(p, "?label=batch-a");
    expect(a.entries.map((e) => e["seed"])).toEqual([104, 103, 102, 101, 100]);
    expect((await history(p, "?taskType=modelSearch")).entries).toHaveLength(1);
    expect((await history(p, "?since=1h")).entries).toHaveLength(8);
    expect((await history(p, `?since=${new Date(Date.now() + 60_000).toISOString()}`)).entries).toHaveLength(0);
    expect((await history(p, "?until=2020-01-01")).entries).toHaveLength(0);

    // Paging: three pages of 3, 3 and 2, no entry twice, in the same order as the whole list.
    const paged: Obj[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await history(p, `?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      paged.push(...page.entries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(paged.map((e) => e["taskUUID"])).toEqual(all.entries.map((e) => e["taskUUID"]));

    // One in full: the task as sent (ready to run again: no taskUUID, no includeCost the caller did not ask for) and its results.
    const full = await getJson(p.socketPath, `/v1/history/${sent[0]!}`);
    expect(full.status).toBe(200);
    const entry = full.json?.["entry"] as Obj;
    expect(entry["input"]).toEqual({
      taskType: "imageInference",
      model: "runware:101@1",
      positivePrompt: "fox 0",
      width: 512,
      height: 512,
      seed: 100,
    });
    expect((entry["data"] as Obj[])[0]).toMatchObject({ seed: 100, cost: IMAGE_USD });
    expect((entry["data"] as Obj[])[0]!["imageURL"]).toBe(entry["outputs"] && (entry["outputs"] as string[])[0]);

    const unknown = await getJson(p.socketPath, "/v1/history/00000000-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect(firstError(unknown.json)?.["code"]).toBe("taskNotFound");
    for (const bad of ["?limit=0", "?limit=5000", "?since=yesterday", "?cursor=abc", "?colour=red", "?label=a&label=b"]) {
      const r = await getJson(p.socketPath, `/v1/history${bad}`);
      expect(r.status, bad).toBe(400);
      expect(firstError(r.json)?.["code"], bad).toBe("invalidHistoryQuery");
    }
  });

  it("spend - by label, tasks without a cost counted apart (webhook, failed), the same right after a SIGKILL and restart", async () => {
    const p = place();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const first = await daemonOn(sim, p);
    const hook = await webhookServer(cleanup);
    expect((await post(p, [imageTask(), imageTask({ numberResults: 2 })], "render")).status).toBe(200);
    expect((await post(p, [imageTask()], "thumbs")).status).toBe(200);
    expect((await post(p, [imageTask({ webhookURL: hook.url })], "thumbs")).status).toBe(200);
    const failed = await post(p, [imageTask({ width: 7 })], "thumbs");
    expect(firstError(failed.json)?.["code"]).toMatch(/^invalid/);
    expect((await post(p, [{ taskType: "modelSearch", search: "flux" }], "render")).status).toBe(200); // free: not in spend

    const before = await spend(p);
    const day = before["lastDay"] as Obj;
    expect(day["usd"]).toBeCloseTo(4 * IMAGE_USD, 10);
    expect(day["tasks"]).toBe(3);
    expect(day["uncosted"]).toEqual({ webhook: 1, failed: 1 });
    expect(day["byLabel"]).toEqual({ render: { usd: 3 * IMAGE_USD, tasks: 2 }, thumbs: { usd: IMAGE_USD, tasks: 1 } });
    expect(before["lastHour"]).toEqual(day);
    expect(before["last30Days"]).toEqual(day);
    const entries = (await history(p)).entries; // read back: committed to the journal
    expect(entries.find((e) => e["uncosted"] === "webhook")).toMatchObject({ label: "thumbs" });
    expect(entries.find((e) => e["state"] === "failed")).toMatchObject({ uncosted: "failed" });

    await kill9(first);
    await daemonOn(sim, p);
    expect(await spend(p)).toEqual(before);
    expect((await history(p)).entries).toEqual(entries);
  });

  it("history - a task taken up again after a SIGKILL keeps the time the first daemon accepted it", async () => {
    const p = place();
    const sim = cleanup.add(await SimServer.start({ workMs: 1500 }), (s) => s.close());
    const first = await daemonOn(sim, p);
    const task = imageTask({ taskUUID: randomUUID() });
    const uuid = task["taskUUID"] as string;
    const answer = postTasks(p.socketPath, [task]).catch((err: unknown) => err); // dies with the daemon
    await waitFor(() => sim.counters.received[uuid] === 1, "the task at the simulator");
    const killedAt = Date.now();
    await kill9(first);
    expect(await answer).toBeInstanceOf(Error);
    await daemonOn(sim, p);
    expect((await getJson(p.socketPath, `/v1/tasks/${uuid}?wait=1`)).json).toMatchObject({ state: "done" });
    const entry = (await getJson(p.socketPath, `/v1/history/${uuid}`)).json?.["entry"] as Obj;
    expect(Date.parse(entry["acceptedAt"] as string)).toBeLessThan(killedAt);
    expect(entry["durationMs"]).toBeGreaterThanOrEqual(Date.parse(entry["finishedAt"] as string) - killedAt);
    expect(entry).toMatchObject({ state: "done", cost: IMAGE_USD, model: "runware:101@1" });
  });

  it("history - past historyMaxBytes the oldest entries leave the list, and spend still counts every task", async () => {
    const rig = await startRig(cleanup, { settings: { historyMaxBytes: 4_000 } });
    const p = { socketPath: rig.socketPath, stateDir: "" };
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const t = imageTask({ taskUUID: randomUUID() });
      sent.push(t["taskUUID"] as string);
      expect((await post(p, [t], "many")).status).toBe(200);
    }
    const listed = (await history(p, "?limit=100")).entries.map((e) => e["taskUUID"]);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThan(12);
    expect(listed).toEqual([...sent].reverse().slice(0, listed.length)); // the newest stay
    expect((await getJson(rig.socketPath, `/v1/history/${sent[0]!}`)).status).toBe(404);
    const day = (await spend(p))["lastDay"] as Obj;
    expect(day["tasks"]).toBe(12);
    expect(day["usd"]).toBeCloseTo(12 * IMAGE_USD, 10);
  });

  it("budget - the first paid task after the cap is reached is refused with 402, nothing before it; free tasks run; it holds after a restart without the flag", async () => {
    const p = place();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    // Three images reach it: 2 x cost stays below, the third passes it.
    const cap = 2.5 * IMAGE_USD;
    const first = await daemonOn(sim, p, { "budget-usd": String(cap), "budget-window": "2h" });
    for (let i = 0; i < 3; i++) expect((await post(p, [imageTask()], "job")).status, `task ${i + 1}`).toBe(200);
    // 2 x cost is 80 % of the cap: the warning came with the second task.
    await first.waitForLine("of the $", 5_000);
    const refused = await post(p, [imageTask()], "job");
    expect(refused.status).toBe(402);
    const err = firstError(refused.json)!;
    expect(err["code"]).toBe("budgetExceeded");
    expect(err["message"]).toContain(`$${3 * IMAGE_USD} of $${cap} in the last 2h`);
    const frees = /until (\S+Z)/.exec(err["message"] as string)?.[1];
    expect(Date.parse(frees!)).toBeGreaterThan(Date.now() + 60 * 60_000); // the window is 2 hours
    expect(Object.keys(sim.counters.received)).toHaveLength(3); // nothing of the refused one went upstream
    expect((await post(p, [{ taskType: "modelSearch", search: "flux" }])).status).toBe(200);
    const status = (await spend(p))["budget"] as Obj;
    expect(status).toMatchObject({ usd: cap, window: "2h", refusing: true, freesAt: frees });

    await kill9(first);
    const second = await daemonOn(sim, p); // no budget flag: the journal's
    expect((await post(p, [imageTask()])).status).toBe(402);
    second.child.kill("SIGTERM");
    await second.exited;
    await daemonOn(sim, p, { "budget-usd": "off" });
    expect((await post(p, [imageTask()])).status).toBe(200);
    expect((await spend(p))["budget"]).toBeUndefined();
  });

  it("budget - on the local WebSocket a paid task past the cap gets Runware's error frame with budgetExceeded; NDJSON gets 402", async () => {
    const rig = await startRig(cleanup, { flags: { "budget-usd": String(IMAGE_USD) } });
    expect((await postTasks(rig.socketPath, [imageTask()])).status).toBe(200);
    const c = cleanup.add(await WsTestClient.connect(`ws+unix://${rig.socketPath}:/v1`), (x) => x.close());
    await c.authenticate();
    const uuid = randomUUID();
    c.send([{ ...imageTask(), taskUUID: uuid }]);
    expect(await c.errorFor(uuid)).toMatchObject({ code: "budgetExceeded", taskUUID: uuid });
    const ndjson = await postTasks(rig.socketPath, [imageTask()], { accept: "application/x-ndjson" });
    expect(ndjson.status).toBe(402);
    expect(submissions(rig.sim)).toBe(1);
  });

  it("budget - a batch accepted before the cap is reached runs whole, passing the cap by at most what was accepted", async () => {
    const p = place();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    await daemonOn(sim, p, { "budget-usd": String(IMAGE_USD) });
    const batch = await post(p, [imageTask(), imageTask(), imageTask()]);
    expect(batch.status).toBe(200);
    expect(batch.json?.["data"]).toHaveLength(3);
    expect(((await spend(p))["lastDay"] as Obj)["usd"]).toBeCloseTo(3 * IMAGE_USD, 10);
    expect((await post(p, [imageTask()])).status).toBe(402);
  });
});
