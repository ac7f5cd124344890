/**
 * The journal (issue 15) with real daemon processes: a daemon SIGKILLed with tasks in flight is
 * replaced by a new one on the same socket, which resumes the journaled session and answers for
 * every task (none sent under a new UUID); a finished-but-unread result survives a restart; a
 * corrupt or newer journal is moved aside; a kill in the middle of a write burst loses nothing accepted; two sockets keep two journals; a live holder keeps the lock.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { journalPaths, JournalLockedError, lockJournal } from "../../src/local/journal/location.js";
import { SCHEMA_VERSION } from "../../src/local/journal/schema.js";
import { SimServer } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, spawnDaemon, tempDir, type Child } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";
import type { Obj } from "../helpers/ws-client.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const START_MS = 15_000;

async function daemonOn(sim: SimServer, socketPath: string, stateDir: string): Promise<Child> {
  const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { "state-dir": stateDir, "max-in-flight": "32" } });
  await d.waitForLine("listening", START_MS);
  await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
  return d;
}

async function kill9(d: Child): Promise<void> {
  d.child.kill("SIGKILL");
  await d.exited;
}

function setup() {
  const dir = tempDir(cleanup, "rwd-journal-");
  return { dir, socketPath: join(dir, "run", "daemon.sock"), stateDir: join(dir, "state") };
}

describe("journal - nothing lost when the daemon dies", () => {
  it("journal - 20 tasks in flight, SIGKILL, restart: each answered with its results by the new daemon, each sent to Runware once", async () => {
    const { socketPath, stateDir } = setup();
    const sim = cleanup.add(await SimServer.start({ workMs: 1500 }), (s) => s.close());
    const first = await daemonOn(sim, socketPath, stateDir);
    const tasks = Array.from({ length: 20 }, (_, i) => imageTask({ taskUUID: randomUUID(), numberResults: 1 + (i % 2), seed: i + 1 }));
    const answers = postTasks(socketPath, tasks).catch((err: unknown) => err); // the connection dies with the daemon
    await waitFor(() => Object.keys(sim.counters.received).length === 20, "all 20 tasks received by the simulator");
    const session = sim.counters.auths.at(-1)?.sessionUUID;
    await kill9(first);
    expect(await answers).toBeInstanceOf(Error);

    await daemonOn(sim, socketPath, stateDir);
    // The new daemon asked for the dead one's session, and Runware (the simulator) resumed it.
    expect(sim.counters.auths.at(-1)).toMatchObject({ requestedSession: session, resumed: true });
    for (const t of tasks) {
      const r = await getJson(socketPath, `/v1/tasks/${t["taskUUID"] as string}?wait=1`);
      expect(r.status, r.text).toBe(200);
      expect(r.json).toMatchObject({ taskUUID: t["taskUUID"], state: "done" });
      expect((r.json!["data"] as Obj[]).length).toBe(t["numberResults"]);
    }
    // Never resent, never under a new UUID: the simulator saw exactly these 20 UUIDs, once each.
    expect(sim.counters.received).toEqual(Object.fromEntries(tasks.map((t) => [t["taskUUID"], 1])));
  });

  it("journal - SIGKILL in the middle of a write burst: every task Runware got is answered in full after the restart, none run twice", async () => {
    const { socketPath, stateDir } = setup();
    // Short work so results stream in while tasks are still being accepted: the journal is
    // committing acceptances, sends and results in every turn when the daemon dies.
    const sim = cleanup.add(await SimServer.start({ workMs: 15 }), (s) => s.close());
    const first = await daemonOn(sim, socketPath, stateDir);
    const tasks = Array.from({ length: 400 }, (_, i) => imageTask({ taskUUID: randomUUID(), numberResults: 1 + (i % 3), seed: i + 1 }));
    const ours = new Set(tasks.map((t) => t["taskUUID"] as string));
    const posts = Array.from({ length: 8 }, (_, i) =>
      postTasks(socketPath, tasks.slice(i * 50, (i + 1) * 50)).catch((err: unknown) => err),
    );
    await waitFor(() => Object.keys(sim.counters.received).length >= 120, "a burst under way (120 tasks at the simulator)", 15_000);
    await kill9(first);
    const receivedBefore = new Set(Object.keys(sim.counters.received));
    expect(receivedBefore.size).toBeLessThan(400); // killed mid-burst, not after it
    await Promise.all(posts);

    await daemonOn(sim, socketPath, stateDir);
    let answered = 0;
    for (const t of tasks) {
      const uuid = t["taskUUID"] as string;
      const r = await getJson(socketPath, `/v1/tasks/${uuid}?wait=1`);
      if (receivedBefore.has(uuid)) expect(r.status, `${uuid} reached Runware before the kill: ${r.text}`).toBe(200);
      if (r.status === 404) continue; // never accepted: its caller saw the connection fail
      expect(r.json, r.text).toMatchObject({ taskUUID: uuid, state: "done" });
      expect((r.json!["data"] as Obj[]).length).toBe(t["numberResults"]);
      answered++;
    }
    expect(answered).toBeGreaterThanOrEqual(receivedBefore.size);
    // Only our UUIDs reached Runware; a second arrival of one is a resend Runware refused as a
    // conflict (then polled), so no task was generated twice.
    const received = sim.counters.received;
    expect(Object.keys(received).every((u) => ours.has(u))).toBe(true);
    const extra = Object.values(received).reduce((sum, n) => sum + (n - 1), 0);
    expect(sim.counters.conflicts).toBe(extra);
  });

  it("journal - with Runware's session gone, the tasks are resent under their own UUIDs and Runware's copies are polled, not run again", async () => {
    const { socketPath, stateDir } = setup();
    const sim = cleanup.add(await SimServer.start({ workMs: 1500 }), (s) => s.close());
    const first = await daemonOn(sim, socketPath, stateDir);
    const tasks = Array.from({ length: 5 }, () => imageTask({ taskUUID: randomUUID() }));
    void postTasks(socketPath, tasks).catch(() => undefined);
    await waitFor(() => Object.keys(sim.counters.received).length === 5, "the tasks received by the simulator");
    await kill9(first);
    // Once the simulator has seen the connection go (else it would keep the session for a resume).
    await waitFor(() => sim.counters.open === 0, "the dead daemon's connection closed at the simulator");
    sim.forgetSessions();

    await daemonOn(sim, socketPath, stateDir);
    for (const t of tasks) {
      const r = await getJson(socketPath, `/v1/tasks/${t["taskUUID"] as string}?wait=1`);
      expect(r.json, r.text).toMatchObject({ state: "done" });
    }
    // Each resent once under its own UUID; Runware answered conflictTaskUUID (it had them), so none ran twice.
    expect(Object.keys(sim.counters.received).sort()).toEqual(tasks.map((t) => t["taskUUID"] as string).sort());
    expect(Object.values(sim.counters.received)).toEqual(tasks.map(() => 2));
    expect(sim.counters.conflicts).toBe(5);
  });

  it("journal - a finished result nobody read survives a SIGKILL and a restart", async () => {
    const { socketPath, stateDir } = setup();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const first = await daemonOn(sim, socketPath, stateDir);
    const task = imageTask({ taskUUID: randomUUID(), numberResults: 2 });
    const done = await postTasks(socketPath, [task]);
    expect((done.json!["data"] as Obj[]).length).toBe(2);
    // One more answer from the daemon: the turn that finished the task (and committed it) is over.
    expect((await getJson(socketPath, "/v1/status")).status).toBe(200);
    await kill9(first);
    await daemonOn(sim, socketPath, stateDir);
    const r = await getJson(socketPath, `/v1/tasks/${task["taskUUID"] as string}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ state: "done", data: done.json!["data"] });
  });

  it("journal - a corrupt journal is moved aside with a log line and the daemon starts empty", async () => {
    const { socketPath, stateDir } = setup();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const paths = journalPaths(stateDir, socketPath);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.file, "this is not a SQLite database, just garbage ".repeat(200));
    const d = await daemonOn(sim, socketPath, stateDir);
    expect(d.stdout()).toMatch(/the journal was unreadable: moved aside to .*journal-[0-9a-f]{16}\.sqlite\.corrupt-/);
    expect(readdirSync(stateDir).some((f) => f.includes(".corrupt-"))).toBe(true);
    const ok = await postTasks(socketPath, [imageTask({ taskUUID: randomUUID() })]);
    expect(ok.status).toBe(200);
  });

  it("journal - a journal from a newer version is moved aside, not read or changed, and the daemon starts empty", async () => {
    const { socketPath, stateDir } = setup();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const paths = journalPaths(stateDir, socketPath);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const future = new Database(paths.file);
    future.exec("CREATE TABLE from_the_future (x TEXT); INSERT INTO from_the_future VALUES ('kept as it was')");
    future.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    future.close();
    const d = await daemonOn(sim, socketPath, stateDir);
    expect(d.stdout()).toMatch(/the journal was written by a newer version: moved aside to .*\.newer-/);
    const aside = readdirSync(stateDir).find((f) => f.includes(".newer-") && f.endsWith("Z"));
    expect(aside).toBeDefined();
    const kept = new Database(join(stateDir, aside!), { readonly: true });
    expect(kept.prepare("SELECT x FROM from_the_future").get()).toEqual({ x: "kept as it was" });
    kept.close();
    expect((await postTasks(socketPath, [imageTask({ taskUUID: randomUUID() })])).status).toBe(200);
  });

  it("journal - two daemons on two sockets keep two journals; a journal held by a live daemon cannot be taken", async () => {
    const { dir, stateDir } = setup();
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const a = join(dir, "a", "daemon.sock");
    const b = join(dir, "b", "daemon.sock");
    await daemonOn(sim, a, stateDir);
    await daemonOn(sim, b, stateDir);
    const [ja, jb] = [journalPaths(stateDir, a), journalPaths(stateDir, b)];
    expect(ja.file).not.toBe(jb.file);
    expect(existsSync(ja.file) && existsSync(jb.file)).toBe(true);
    // A's daemon is alive and holds its lock.
    expect(() => lockJournal(ja)).toThrow(JournalLockedError);
  });
});
