/**
 * Finished tasks, readable for a while after they end (docs/local-api.md §2.4: "finished within the
 * retention window"), so a caller that went away can come back for its results. Bounded in time, in
 * count and in bytes (results are what weighs: base64 images); a FifoMap keeps insertion order, so the
 * oldest entries are at the front and eviction is O(1) each. A task evicted for room before its
 * window ran out leaves a marker, so a lookup says "evicted" (410), not "unknown" (404); the
 * markers are bounded in count too. No timer: expiry is applied when entries are added or read.
 */
import type { RunwareErrorObject } from "../errors.js";
import type { TaskOutcome } from "../upstream/task.js";
import { systemClock, type Clock } from "../util/clock.js";
import { FifoMap } from "../util/fifo-map.js";
import { outcomeBytes } from "./size.js";

export const TASK_EVICTED_CODE = "taskEvicted";

export interface StoreLimits {
  retentionMs: number;
  /** Finished tasks kept at most. */
  maxEntries: number;
  /** Bytes of their results and errors kept at most (size.ts). */
  maxBytes: number;
  /** Evicted taskUUIDs remembered at most. */
  maxMarkers: number;
}

interface Entry {
  outcome: TaskOutcome;
  finishedAt: number;
  bytes: number;
}

/** Why a finished task is no longer readable although its retention window had not run out. */
export interface Eviction {
  /** "bytes": newer results needed the room; "count": newer tasks did; "size": it alone was larger than the store. */
  why: "bytes" | "count" | "size";
  taskType: string;
  finishedAt: number;
  evictedAt: number;
}

export class ResultStore {
  private readonly entries = new FifoMap<string, Entry>();
  private readonly evictions = new FifoMap<string, Eviction>();
  private total = 0;

  /** `onGone(uuid)`: a finished task left the store (expired or evicted): its durable half forgets it too (journal). */
  constructor(
    readonly limits: StoreLimits,
    private readonly clock: Clock = systemClock,
    private readonly onGone: (taskUUID: string) => void = () => {},
  ) {}

  /** Keep a finished task; `finishedAt` when it finished earlier (loaded from the journal at start). */
  put(outcome: TaskOutcome, finishedAt?: number): void {
    const { retentionMs, maxEntries, maxBytes } = this.limits;
    if (retentionMs <= 0 || maxEntries <= 0) {
      this.onGone(outcome.taskUUID);
      return;
    }
    const now = finishedAt ?? this.clock.now();
    this.remove(outcome.taskUUID); // re-insert at the back
    this.evictions.delete(outcome.taskUUID);
    const bytes = outcomeBytes(outcome);
    if (bytes > maxBytes) {
      this.mark(outcome.taskUUID, { why: "size", taskType: outcome.taskType, finishedAt: now, evictedAt: now });
      this.onGone(outcome.taskUUID);
      this.expire(this.clock.now());
      return;
    }
    this.entries.set(outcome.taskUUID, { outcome, finishedAt: now, bytes });
    this.total += bytes;
    this.expire(this.clock.now());
  }

  get(taskUUID: string): TaskOutcome | undefined {
    const e = this.entries.get(taskUUID);
    if (!e) return undefined;
    if (this.clock.now() - e.finishedAt > this.limits.retentionMs) {
      this.remove(taskUUID);
      this.onGone(taskUUID);
      return undefined;
    }
    return e.outcome;
  }

  /** Set when `taskUUID` finished and was evicted for room before its window ran out. */
  evicted(taskUUID: string): Eviction | undefined {
    return this.entries.has(taskUUID) ? undefined : this.evictions.get(taskUUID);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of results and errors retained. */
  get bytes(): number {
    return this.total;
  }

  private remove(taskUUID: string): void {
    const e = this.entries.get(taskUUID);
    if (!e) return;
    this.entries.delete(taskUUID);
    this.total -= e.bytes;
  }

  private mark(taskUUID: string, ev: Eviction): void {
    if (this.limits.maxMarkers <= 0) return;
    this.evictions.set(taskUUID, ev);
    while (this.evictions.size > this.limits.maxMarkers) {
      const oldest = this.evictions.oldest();
      if (!oldest) break;
      this.evictions.delete(oldest[0]);
    }
  }

  /** Drop from the front: what outlived its window silently, what is over count or bytes with a marker. */
  private expire(now: number): void {
    const { retentionMs, maxEntries, maxBytes } = this.limits;
    for (let first = this.entries.oldest(); first; first = this.entries.oldest()) {
      const [uuid, e] = first;
      const why =
        now - e.finishedAt > retentionMs ? undefined : this.entries.size > maxEntries ? "count" : this.total > maxBytes ? "bytes" : "keep";
      if (why === "keep") break;
      this.remove(uuid);
      this.onGone(uuid);
      if (why) this.mark(uuid, { why, taskType: e.outcome.taskType, finishedAt: e.finishedAt, evictedAt: now });
    }
  }
}

/** The answer to a lookup of an evicted task (docs/local-api.md §2.4): when, and why. */
export function evictedError(taskUUID: string, ev: Eviction, limits: StoreLimits): RunwareErrorObject {
  const finished = new Date(ev.finishedAt).toISOString();
  const evicted = new Date(ev.evictedAt).toISOString();
  const why =
    ev.why === "size"
      ? `its results alone were larger than the whole result store (resultRetentionBytes, ${limits.maxBytes} bytes)`
      : ev.why === "bytes"
        ? `newer results needed the room (the daemon keeps ${limits.maxBytes} bytes of results, resultRetentionBytes)`
        : `newer tasks needed the room (the daemon keeps ${limits.maxEntries} finished tasks)`;
  return {
    code: TASK_EVICTED_CODE,
    message: `task ${taskUUID} finished at ${finished} and its results were evicted at ${evicted}: ${why}; the daemon no longer has them`,
    taskUUID,
    taskType: ev.taskType,
  };
}
