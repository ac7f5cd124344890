/**
 * `runware daemon` as a real process (docs/local-api.md §1, §6): the built CLI against an in-process
 * simulator. Start-up line, exit codes, one daemon per socket, stale sockets, SIGTERM drain, the
 * key file, and no API key in any output at trace level.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { existsSync, lstatSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimServer, type SimOptions } from "../../src/sim/index.js";
import { Cleanup } from "../helpers/cleanup.js";
import { daemonFlagSpecs } from "../../src/local/config.js";
import { getJson, postTasks, spawnCli, spawnDaemon, tempDir, TEST_KEY, type Child } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Generous: a busy 2-core box starting node. */
const START_MS = 15_000;

async function setup(sim: Partial<SimOptions> = {}): Promise<{ sim: SimServer; dir: string; socketPath: string }> {
  const dir = tempDir(cleanup);
  const s = cleanup.add(await SimServer.start({ workMs: 5, ...sim }), (x) => x.close());
  return { sim: s, dir, socketPath: join(dir, "run", "daemon.sock") };
}

async function ready(d: Child, socketPath: string): Promise<string> {
  const line = await d.waitForLine("listening", START_MS);
  await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", START_MS);
  return line;
}

describe("local api - runware daemon process", () => {
  it("local api - prints a 'listening' line with the socket path, serves, and exits 0 on SIGTERM removing the socket", async () => {
    const { sim, socketPath } = await setup();
    const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
    const line = await ready(d, socketPath);
    expect(line).toContain(socketPath);
    const res = await postTasks(socketPath, [imageTask({ numberResults: 2 })]);
    expect(res.json!["data"]).toHaveLength(2);
    d.child.kill("SIGTERM");
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.auths).toHaveLength(1);
  });

  it("local api - exits 0 on SIGINT too, removing the socket", async () => {
    const { sim, socketPath } = await setup();
    const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
    await ready(d, socketPath);
    d.child.kill("SIGINT");
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(socketPath)).toBe(false);
  });

  it("local api - without RUNWARE_API_KEY exits 2 with one line saying how to set it", async () => {
    const { sim, socketPath } = await setup();
    const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath, env: {} });
    expect((await d.exited).code).toBe(2);
    const err = d.stderr().trimEnd();
    expect(err.split("\n")).toHaveLength(1);
    expect(err).toContain("RUNWARE_API_KEY");
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });

  it("local api - a bad flag or value exits 2 with a message naming it", async () => {
    const { sim, socketPath } = await setup();
    const unknown = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { frobnicate: "1" } });
    const badValue = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { "max-in-flight": "zero" } });
    // A key passed as a flag is refused without being echoed (it would show in ps, and in logs).
    const keyFlag = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { "api-key": "flag-fake-key-31c0" } });
    const codes = await Promise.all([unknown, badValue, keyFlag].map(async (c) => (await c.exited).code));
    expect(codes).toEqual([2, 2, 2]);
    for (const c of [unknown, badValue, keyFlag]) expect(c.stderr().trimEnd().split("\n")).toHaveLength(1);
    expect(unknown.stderr()).toContain("frobnicate");
    expect(badValue.stderr()).toContain("--max-in-flight");
    expect(keyFlag.stderr()).toContain("RUNWARE_API_KEY");
    expect(keyFlag.stderr() + keyFlag.stdout()).not.toContain("flag-fake-key-31c0");
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });

  it("local api - --help prints every daemon flag and exits 0, starting nothing", async () => {
    const { sim, socketPath } = await setup();
    const d = spawnCli(cleanup, ["daemon", "--help", "--socket", socketPath, "--upstream", sim.url], { RUNWARE_API_KEY: TEST_KEY });
    expect((await d.exited).code).toBe(0);
    for (const flag of Object.keys(daemonFlagSpecs())) expect(d.stdout()).toContain(`--${flag}`);
    expect(d.stdout()).toContain("default 4"); // --max-in-flight's
    expect(existsSync(socketPath)).toBe(false);
    expect(sim.counters.connections).toBe(0);
  });

  it("local api - a second daemon on the same socket exits non-zero; the first still answers", async () => {
    const { sim, socketPath } = await setup();
    const first = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
    await ready(first, socketPath);
    const second = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
    const { code } = await second.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(second.stderr()).toMatch(/already/);
    // The second never opened its own upstream link.
    expect(sim.counters.connections).toBe(1);
    const status = await getJson(socketPath, "/v1/status");
    expect(status.json!["upstream"].state).toBe("ready");
    expect(first.child.exitCode).toBeNull();
  });

  it("local api - after SIGKILL the stale socket is replaced by a new daemon on the same path", async () => {
    const { sim, socketPath } = await setup();
    const first = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
    await ready(first, socketPath);
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(lstatSync(socketPath).isSocket()).toBe(true); // left behind
    const second = spawnDaemon(cleanup, { upstream: sim.url, socketPath });
    await ready(second, socketPath);
    const uuid = randomUUID();
    expect((await postTasks(socketPath, [imageTask({ taskUUID: uuid })])).json!["data"]).toHaveLength(1);
    expect(sim.counters.received[uuid]).toBe(1);
  });

  it("local api - SIGTERM with a task in flight: the caller gets its full answer, exit 0, socket removed", async () => {
    const { sim, socketPath } = await setup({ workMs: 500 });
    const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { "drain-timeout-ms": "10000" } });
    await ready(d, socketPath);
    const uuid = randomUUID();
    const answer = postTasks(socketPath, [imageTask({ taskUUID: uuid, numberResults: 3 })], {}, START_MS);
    await waitFor(() => sim.counters.received[uuid] === 1, "the task to reach the simulator");
    d.child.kill("SIGTERM");
    const res = await answer;
    expect(res.status).toBe(200);
    const data = res.json!["data"] as Array<Record<string, unknown>>;
    expect(data).toHaveLength(3);
    expect(data.every((i) => i["taskUUID"] === uuid && typeof i["imageURL"] === "string")).toBe(true);
    expect(res.json!["errors"]).toBeUndefined();
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(socketPath)).toBe(false);
  });

  it("local api - reads the key from --api-key-file", async () => {
    const fileKey = "file-fake-key-77aa";
    const { sim, dir, socketPath } = await setup({ rejectedKeys: [TEST_KEY] });
    const keyFile = join(dir, "key");
    writeFileSync(keyFile, `${fileKey}\n`, { mode: 0o600 });
    // The file's key is the one used: the simulator rejects any other (and there is none in env).
    const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { "api-key-file": keyFile }, env: {} });
    await ready(d, socketPath);
    expect((await postTasks(socketPath, [imageTask()])).json!["data"]).toHaveLength(1);
    expect(sim.counters.auths).toHaveLength(1);
    expect(d.stdout() + d.stderr()).not.toContain(fileKey);
  });

  it("local api - at --log-level trace, through a task and a reconnect, the API key appears in no output nor status", async () => {
    const key = "sk-test-DO-NOT-LOG-7f3a";
    const { sim, socketPath } = await setup();
    const d = spawnDaemon(cleanup, { upstream: sim.url, socketPath, flags: { "log-level": "trace" }, env: { RUNWARE_API_KEY: key } });
    await ready(d, socketPath);
    expect((await postTasks(socketPath, [imageTask()])).status).toBe(200);
    sim.cutAll();
    const status = await waitFor(async () => {
      const res = await getJson(socketPath, "/v1/status");
      return res.json?.["upstream"]?.state === "ready" && res.json["upstream"].reconnects >= 1 ? res : undefined;
    }, "a reconnect");
    expect((await postTasks(socketPath, [imageTask()])).status).toBe(200);
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);

    const output = d.stdout() + d.stderr();
    // Trace really was on, and the key was really used (two authentications).
    expect(output).toMatch(/"level":10\b/);
    expect(sim.counters.auths.length).toBeGreaterThanOrEqual(2);
    expect(output).not.toContain(key);
    expect(output).not.toContain("7f3a");
    expect(status.text).not.toContain(key);
  });
});
