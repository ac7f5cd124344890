/**
 * Finished tasks, readable for a while after they end (docs/local-api.md §2.4: "finished within the
 * retention window"), so a caller that went away can come back for its results. Bounded in time and in count;
 * a Map keeps insertion order, so the oldest entries are at the front and eviction is O(1) each.
 * No timer: expiry is applied when entries are added or read.
 */
import type { TaskOutcome } from "../upstream/task.js";
import { systemClock, type Clock } from "../util/clock.js";

interface Entry {
  outcome: TaskOutcome;
  finishedAt: number;
}

export class ResultStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly retentionMs: number,
    private readonly maxEntries: number,
    private readonly clock: Clock = systemClock,
  ) {}

  put(outcome: TaskOutcome): void {
    if (this.retentionMs <= 0 || this.maxEntries <= 0) return;
    this.entries.delete(outcome.taskUUID); // re-insert at the back
    this.entries.set(outcome.taskUUID, { outcome, finishedAt: this.clock.now() });
    this.evict();
  }

  get(taskUUID: string): TaskOutcome | undefined {
    const e = this.entries.get(taskUUID);
    if (!e) return undefined;
    if (this.clock.now() - e.finishedAt > this.retentionMs) {
      this.entries.delete(taskUUID);
      return undefined;
    }
    return e.outcome;
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const now = this.clock.now();
    for (const [uuid, e] of this.entries) {
      if (this.entries.size > this.maxEntries || now - e.finishedAt > this.retentionMs) this.entries.delete(uuid);
      else break;
    }
  }
}
