/**
 * `GET /v1/status` (docs/local-api.md §2.5): its exact shape and types, live counts, and no API key anywhere.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { statusLimits } from "../../src/local/config.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const UPSTREAM_STATES = ["connecting", "authenticating", "ready", "backoff", "auth-failed", "draining", "closed"];
const PKG_VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

describe("local api - GET /v1/status", () => {
  it("local api - has the contract's shape and types, with upstream ready on the simulator's session", async () => {
    const key = "status-fake-key-9d1e";
    const rig = await startRig(cleanup, { apiKey: key, flags: { "max-in-flight": "3" } });
    const res = await getJson(rig.socketPath, "/v1/status");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const s = res.json!;
    expect(Object.keys(s).sort()).toEqual(["limits", "spend", "tasks", "upstream", "version"]);
    expect(Object.keys(s["upstream"]).sort()).toEqual(["connectedSince", "lastError", "reconnects", "sessionUUID", "state"]);
    expect(Object.keys(s["tasks"]).sort()).toEqual(["async", "completed", "failed", "inFlight", "queued"]);

    const up = s["upstream"];
    expect(UPSTREAM_STATES).toContain(up.state);
    expect(up.state).toBe("ready");
    expect(up.sessionUUID).toBe(rig.sim.counters.auths[0]!.sessionUUID);
    expect(typeof up.connectedSince).toBe("string");
    expect(new Date(up.connectedSince).toISOString()).toBe(up.connectedSince);
    expect(Math.abs(Date.now() - Date.parse(up.connectedSince))).toBeLessThan(60_000);
    expect(up.reconnects).toBe(0);
    expect(up.lastError).toBeNull();
    expect(s["tasks"]).toEqual({ queued: 0, inFlight: 0, async: 0, completed: 0, failed: 0 });
    const nothing = { usd: 0, tasks: 0, uncosted: {}, byLabel: {} };
    expect(s["spend"]).toEqual({ currency: "USD", lastHour: nothing, lastDay: nothing, last30Days: nothing }); // no budget set
    // The limits are the settings the table marks for status, with the daemon's values.
    expect(s["limits"]).toEqual(statusLimits(rig.cfg));
    expect(s["limits"]["maxInFlight"]).toBe(3);
    expect(s["limits"]["maxQueued"]).toBe(rig.cfg.maxQueued);
    expect(s["version"]).toBe(PKG_VERSION);
    expect(res.text).not.toContain(key);
  });

  it("local api - counts move as tasks run, complete and fail", async () => {
    const rig = await startRig(cleanup, { sim: { workMs: 500 }, flags: { "max-in-flight": "1" } });
    const tasks = async () => (await getJson(rig.socketPath, "/v1/status")).json!["tasks"];
    const a = randomUUID();
    const batch = postTasks(rig.socketPath, [imageTask({ taskUUID: a }), imageTask({ width: 100 })]);
    await waitFor(() => rig.sim.counters.received[a] === 1, "the first task to be sent");
    expect(await tasks()).toEqual({ queued: 1, inFlight: 1, async: 0, completed: 0, failed: 0 });
    expect((await batch).status).toBe(200);
    expect(await tasks()).toEqual({ queued: 0, inFlight: 0, async: 0, completed: 1, failed: 1 });
  });

  it("local api - reports a reconnect after the upstream link drops, with the key still nowhere in it", async () => {
    const key = "status-fake-key-5b2c";
    const rig = await startRig(cleanup, { apiKey: key });
    const before = (await getJson(rig.socketPath, "/v1/status")).json!["upstream"];
    rig.sim.cutAll();
    const after = await waitFor(async () => {
      const res = await getJson(rig.socketPath, "/v1/status");
      const up = res.json!["upstream"];
      return up.state === "ready" && up.reconnects >= 1 ? res : undefined;
    }, "a reconnect to show in status");
    expect(after.json!["upstream"].sessionUUID).toBe(before.sessionUUID); // resumed, not a new session
    expect(after.text).not.toContain(key);
  });
});
