/**
 * `GET /metrics` (issue 17; docs/local-api.md §7.2): Prometheus text format with prom-client.
 * Counted as things happen: tasks by type and final state, durations (sync and async apart), spend.
 * Read at each scrape: the queue, in-flight and polling tasks, the link's state, reconnects, pong
 * misses, retries by code, bytes each way, failed token checks. Label values are bounded: task
 * types the daemon knows, else `other`; caller labels are never metric labels (history and
 * status carry them).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { TASK_KINDS } from "../protocol/task-kinds.js";
import type { UpstreamEngine } from "../upstream/engine.js";
import { ALLOWED, type ConnState } from "../upstream/state.js";
import type { Ledger } from "./ledger/ledger.js";

/** Task types that get their own label value; any other is `other`. */
const KNOWN_TYPES: ReadonlySet<string> = new Set([
  ...Object.keys(TASK_KINDS),
  "imageUpscale",
  "imageBackgroundRemoval",
  "imageCaption",
  "imageUpload",
  "mediaUpload",
  "modelSearch",
  "accountManagement",
  "vectorize",
  "imageMasking",
  "imageControlNetPreProcess",
]);

export const typeLabel = (taskType: string): string => (KNOWN_TYPES.has(taskType) ? taskType : "other");

const CONN_STATES = Object.keys(ALLOWED) as ConnState[];

/** Seconds; from a fast image (under a second) to a long video (tens of minutes). */
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export interface MetricsSources {
  engine: UpstreamEngine;
  ledger: Ledger;
  /** Failed token checks on the TCP listener, if there is one. */
  authFailures?: () => number;
}

export class DaemonMetrics {
  readonly registry = new Registry();

  constructor(src: MetricsSources) {
    const r = [this.registry];
    const tasks = new Counter({
      name: "runware_tasks_total",
      help: "Finished tasks by type and final state",
      labelNames: ["task_type", "state"],
      registers: r,
    });
    const duration = new Histogram({
      name: "runware_task_duration_seconds",
      help: "From acceptance to the end, sync and async tasks apart",
      labelNames: ["task_type", "delivery"],
      buckets: DURATION_BUCKETS,
      registers: r,
    });
    const spend = new Counter({ name: "runware_spend_usd_total", help: "USD reported by finished tasks (includeCost)", registers: r });
    const uncosted = new Counter({
      name: "runware_uncosted_tasks_total",
      help: "Finished tasks of a paid type without a cost, by why",
      labelNames: ["reason"],
      registers: r,
    });
    src.ledger.on("recorded", (e, async) => {
      const type = typeLabel(e.taskType);
      tasks.inc({ task_type: type, state: e.state });
      duration.observe({ task_type: type, delivery: async ? "async" : "sync" }, e.durationMs / 1000);
      if (e.cost !== undefined && e.cost >= 0) spend.inc(e.cost);
      else if (e.uncosted) uncosted.inc({ reason: e.uncosted });
    });

    const engine = src.engine;
    const traffic = engine.traffic;
    // Read at each scrape: a value (or one per label set) from the engine, the link or the gate.
    type Values = () => Iterable<readonly [Record<string, string>, number]>;
    const one =
      (value: () => number): Values =>
      () => [[{}, value()]];
    const gauge = (name: string, help: string, values: Values, labelNames: string[] = []) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: r,
        collect: function (this: Gauge) {
          for (const [labels, v] of values()) this.set(labels, v);
        },
      });
    const counter = (name: string, help: string, values: Values, labelNames: string[] = []) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: r,
        collect: function (this: Counter) {
          this.reset();
          for (const [labels, v] of values()) this.inc(labels, v);
        },
      });
    gauge(
      "runware_queue_tasks",
      "Tasks waiting for an in-flight slot",
      one(() => engine.stats().tasks.queued),
    );
    gauge(
      "runware_queue_bytes",
      "Encoded bytes of the tasks waiting",
      one(() => engine.queuedBytes),
    );
    gauge(
      "runware_in_flight_tasks",
      "Tasks sent and not yet answered (async ones once acknowledged are polling)",
      one(() => engine.stats().tasks.inFlight),
    );
    gauge(
      "runware_polling_tasks",
      "Async tasks counted against --max-async (sent, or acknowledged and polled)",
      one(() => engine.stats().tasks.async),
    );
    gauge(
      "runware_upstream_state",
      "1 for the upstream link's current state",
      () => {
        const now = engine.stats().upstream.state;
        return CONN_STATES.map((state) => [{ state }, state === now ? 1 : 0] as const);
      },
      ["state"],
    );
    counter(
      "runware_upstream_reconnects_total",
      "Successful re-authentications after the first",
      one(() => engine.stats().upstream.reconnects),
    );
    counter(
      "runware_heartbeat_misses_total",
      "Pings Runware left unanswered",
      one(() => traffic.heartbeatMisses),
    );
    counter(
      "runware_upstream_received_bytes_total",
      "Bytes of frames from Runware",
      one(() => traffic.bytesIn),
    );
    counter(
      "runware_upstream_sent_bytes_total",
      "Bytes of frames to Runware",
      one(() => traffic.bytesOut),
    );
    counter(
      "runware_local_auth_failures_total",
      "Failed local token checks on the TCP listener",
      one(() => src.authFailures?.() ?? 0),
    );
    counter(
      "runware_retries_total",
      "Tasks retried after a transient error, by Runware's code",
      () => [...traffic.retriesByCode].map(([code, n]) => [{ code }, n] as const),
      ["code"],
    );
  }

  /** The exposition, and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
