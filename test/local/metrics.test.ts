/**
 * Issue 17: `GET /metrics` with a real daemon process and the simulator. The exposition parses
 * with a Prometheus text parser, and its counters match what the test did: tasks by type and final
 * state, durations sync and async apart, spend, the link's state and bytes. On TCP it needs the token.
 */
import { join } from "node:path";
import parsePrometheusTextFormat, { type PromFamily } from "parse-prometheus-text-format";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { SimServer } from "../../src/sim/index.js";
import { SIM_CONSTANTS } from "../../src/sim/limits.js";
import { Cleanup } from "../helpers/cleanup.js";
import { getJson, postTasks, request, spawnDaemon, tempDir } from "../helpers/daemon.js";
import { imageTask } from "../helpers/engine.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function family(all: PromFamily[], name: string): PromFamily {
  const f = all.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} in the exposition: ${all.map((x) => x.name).join(", ")}`);
  return f;
}

function value(all: PromFamily[], name: string, labels: Record<string, string> = {}): number {
  const sample = family(all, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? sample?.count ?? NaN);
}

function histogramCount(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}_count{${labels}}`));
  return Number(line?.split(" ").pop() ?? NaN);
}

describe("metrics", () => {
  it("metrics - parses as Prometheus text, and its counters match the tasks run; on TCP only with the token", async () => {
    const sim = cleanup.add(await SimServer.start({ workMs: 5 }), (s) => s.close());
    const dir = tempDir(cleanup, "rwd-metrics-");
    const socketPath = join(dir, "run", "daemon.sock");
    const tokenFile = join(dir, "token");
    const d = spawnDaemon(cleanup, {
      upstream: sim.url,
      socketPath,
      flags: { "state-dir": join(dir, "state"), listen: "127.0.0.1:0", "token-file": tokenFile },
    });
    const port = /127\.0\.0\.1:(\d+)/.exec(await d.waitForLine("listening on tcp", 15_000))?.[1];
    await waitFor(async () => (await getJson(socketPath, "/v1/status")).json?.["upstream"]?.state === "ready", "upstream ready", 15_000);

    expect((await postTasks(socketPath, [imageTask(), imageTask(), imageTask()])).status).toBe(200);
    expect((await postTasks(socketPath, [imageTask({ width: 7 })])).status).toBe(200); // fails upstream: invalidWidth
    expect((await postTasks(socketPath, [{ taskType: "modelSearch", search: "flux" }, { taskType: "my-own-type" }])).status).toBe(200);
    // Async, polled by the daemon (a caller's own async would be answered at the acknowledgement).
    expect((await postTasks(socketPath, [imageTask({ deliveryMethod: "async" })], {}, 10_000)).status).toBe(200);

    const res = await request(socketPath, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const all = parsePrometheusTextFormat(res.text);
    expect(family(all, "runware_tasks_total").type).toBe("COUNTER");
    expect(value(all, "runware_tasks_total", { task_type: "imageInference", state: "done" })).toBe(4);
    expect(value(all, "runware_tasks_total", { task_type: "imageInference", state: "failed" })).toBe(1);
    expect(value(all, "runware_tasks_total", { task_type: "modelSearch", state: "done" })).toBe(1);
    // A task type the daemon does not know is `other`: label values stay bounded.
    expect(value(all, "runware_tasks_total", { task_type: "other" })).toBe(1);
    expect(family(all, "runware_tasks_total").metrics.every((m) => !("label" in (m.labels ?? {})))).toBe(true);
    const durations = family(all, "runware_task_duration_seconds");
    expect(durations.type).toBe("HISTOGRAM");
    // The parser folds a histogram's label sets into one: its counts are read from the lines themselves.
    expect(histogramCount(res.text, "runware_task_duration_seconds", 'task_type="imageInference",delivery="sync"')).toBe(4);
    expect(histogramCount(res.text, "runware_task_duration_seconds", 'task_type="imageInference",delivery="async"')).toBe(1);
    const usd = 4 * SIM_CONSTANTS.costPerImage;
    expect(value(all, "runware_spend_usd_total")).toBeCloseTo(usd, 8);
    expect(value(all, "runware_uncosted_tasks_total", { reason: "failed" })).toBe(1);
    expect(value(all, "runware_upstream_state", { state: "ready" })).toBe(1);
    expect(value(all, "runware_upstream_state", { state: "backoff" })).toBe(0);
    expect(value(all, "runware_queue_tasks")).toBe(0);
    expect(value(all, "runware_in_flight_tasks")).toBe(0);
    expect(value(all, "runware_upstream_sent_bytes_total")).toBeGreaterThan(0);
    expect(value(all, "runware_upstream_received_bytes_total")).toBeGreaterThan(0);
    expect(value(all, "runware_upstream_reconnects_total")).toBe(0);

    const token = readFileSync(tokenFile, "utf8").trim();
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const overTcp = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(overTcp.status).toBe(200);
    const again = parsePrometheusTextFormat(await overTcp.text());
    expect(value(again, "runware_local_auth_failures_total")).toBe(1);
    expect(value(again, "runware_tasks_total", { task_type: "imageInference", state: "done" })).toBe(4);
  });
});
