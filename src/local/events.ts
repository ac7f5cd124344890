/**
 * The live event stream (issue 17; docs/local-api.md §7.3): task accepted / sent / progress /
 * done / failed / in doubt, upstream state changes, budget warnings, to every reader of `GET
 * /v1/events`. Each reader has a byte budget for what it has not read yet: one that falls behind
 * gets a last `dropped` line and is let go, so a stuck reader costs the daemon at most that. With
 * no reader the hub costs the hot path one size check per event.
 */
import type { ServerResponse } from "node:http";
import type { DaemonEvent } from "../protocol/events.js";
import type { UpstreamEngine } from "../upstream/engine.js";
import { formatDuration } from "../util/duration.js";
import type { Ledger } from "./ledger/ledger.js";

/** How long a dropped reader has to read its last line. */
const DROP_GRACE_MS = 1_000;

interface Reader {
  res: ServerResponse;
  sse: boolean;
}

export class EventHub {
  private readonly readers = new Set<Reader>();
  /** Label of each task seen accepted while someone reads, until it ends. */
  private readonly labels = new Map<string, { taskType: string; label: string }>();

  constructor(
    engine: UpstreamEngine,
    ledger: Ledger,
    /** The most a reader may leave unread (bytes in its socket's buffer) before it is dropped (eventReaderMaxBytes). */
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    engine.on("accepted", (t, handle) => {
      if (this.readers.size === 0 || t.passthrough) return;
      const who = { taskType: t.taskType, label: t.label };
      this.labels.set(t.taskUUID, who);
      this.emit({ type: "task.accepted", at: this.at(), taskUUID: t.taskUUID, ...who });
      handle.subscribe((ev) => {
        if (ev.type === "progress" && typeof ev.item["progress"] === "number") {
          this.emit({ type: "task.progress", at: this.at(), taskUUID: t.taskUUID, ...who, progress: ev.item["progress"] });
        }
      });
    });
    engine.on("move", (uuid, _from, to) => {
      const who = to === "sent" ? this.labels.get(uuid) : undefined;
      if (who) this.emit({ type: "task.sent", at: this.at(), taskUUID: uuid, ...who });
    });
    ledger.on("recorded", (e) => {
      this.labels.delete(e.taskUUID);
      if (this.readers.size === 0) return;
      const ev: DaemonEvent = {
        type: `task.${e.state}`,
        at: this.at(),
        taskUUID: e.taskUUID,
        taskType: e.taskType,
        label: e.label,
        ms: e.durationMs,
      };
      if (e.cost !== undefined) ev.cost = e.cost;
      if (e.errors[0]) ev.code = e.errors[0].code;
      this.emit(ev);
    });
    engine.on("state", (to, from, reason) => this.emit({ type: "upstream.state", at: this.at(), from, to, reason }));
    ledger.on("budgetWarning", (spentUsd, rule) =>
      this.emit({ type: "budget.warning", at: this.at(), spentUsd, budgetUsd: rule.usd, window: formatDuration(rule.windowMs) }),
    );
  }

  get size(): number {
    return this.readers.size;
  }

  /** Stream events to `res` from now on, as NDJSON or server-sent events. */
  open(res: ServerResponse, sse: boolean): void {
    res.writeHead(200, {
      "content-type": sse ? "text/event-stream" : "application/x-ndjson",
      "cache-control": "no-store",
      ...(sse ? {} : { "x-content-type-options": "nosniff" }),
    });
    res.flushHeaders();
    const reader = { res, sse };
    this.readers.add(reader);
    res.once("close", () => this.readers.delete(reader));
  }

  /** Every reader's stream ends (the daemon stops). */
  close(): void {
    for (const r of this.readers) r.res.end();
    this.readers.clear();
    this.labels.clear();
  }

  private emit(ev: DaemonEvent): void {
    if (this.readers.size === 0) return;
    const json = JSON.stringify(ev);
    for (const r of this.readers) {
      if (r.res.writableLength > this.maxBytes) {
        this.drop(r);
        continue;
      }
      r.res.write(r.sse ? `data: ${json}\n\n` : `${json}\n`);
    }
  }

  private drop(r: Reader): void {
    this.readers.delete(r);
    const last = JSON.stringify({ type: "dropped", at: this.at(), reason: `fell behind by more than ${this.maxBytes} bytes` });
    r.res.end(r.sse ? `data: ${last}\n\n` : `${last}\n`);
    // A reader that reads nothing never takes that line: its connection is cut a moment later.
    const cut = setTimeout(() => r.res.destroy(), DROP_GRACE_MS).unref();
    r.res.once("close", () => clearTimeout(cut));
  }

  private at(): string {
    return new Date(this.now()).toISOString();
  }
}
