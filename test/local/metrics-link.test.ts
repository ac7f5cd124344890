/**
 * Issue 17: what happens upstream shows in `/metrics` and `/v1/events`: retries by Runware's code,
 * a reconnect, the link's state, and its changes as events, in order.
 */
import { connect as netConnect } from "node:net";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import type { DaemonEvent } from "../../src/protocol/events.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, request, startRig } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("metrics and events - the upstream link", () => {
  it("metrics - retries by code, a reconnect and the link's state; events show the link going down and coming back, in order", async () => {
    const rig = await startRig(cleanup);
    const sock = netConnect(rig.socketPath);
    cleanup.defer(() => sock.destroy());
    let got = "";
    sock.on("data", (b: Buffer) => (got += b.toString()));
    sock.write("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => rig.daemon.eventReaders === 1, "the events reader");

    rig.sim.injectErrors({ code: "timeoutProvider", count: 2 });
    const r = await postTasks(rig.socketPath, [imageTask()]);
    expect(r.status).toBe(200);
    expect(r.json?.["data"]).toHaveLength(1);
    rig.sim.cutAll();
    await waitFor(async () => (await getJson(rig.socketPath, "/v1/status")).json?.["upstream"]?.reconnects === 1, "a reconnect");
    await waitFor(async () => (await getJson(rig.socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "ready again");

    const all = parsePrometheusTextFormat((await request(rig.socketPath, "/metrics")).text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(all.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    expect(value("runware_retries_total", { code: "timeoutProvider" })).toBe(2);
    expect(value("runware_upstream_reconnects_total")).toBe(1);
    expect(value("runware_upstream_state", { state: "ready" })).toBe(1);
    expect(value("runware_tasks_total", { task_type: "imageInference", state: "done" })).toBe(1);

    await waitFor(() => got.includes('"to":"ready"'), "the link's return in the events");
    const events = got
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as DaemonEvent);
    const link = events.filter((e): e is Extract<DaemonEvent, { type: "upstream.state" }> => e.type === "upstream.state");
    expect(link[0]?.from).toBe("ready"); // the cut
    expect(link.at(-1)?.to).toBe("ready");
    const kinds = events.map((e) => e.type);
    expect(kinds.indexOf("task.done")).toBeLessThan(kinds.indexOf("upstream.state"));

    // A frozen link: its pings go unanswered, and the misses are counted.
    rig.sim.freeze();
    await waitFor(async () => {
      const text = (await request(rig.socketPath, "/metrics")).text;
      return Number(/^runware_heartbeat_misses_total (\d+)/m.exec(text)?.[1] ?? 0) >= 1;
    }, "a missed pong counted");
    rig.sim.unfreeze();
  });
});
