/**
 * Every task the simulator has seen, keyed by taskUUID across all sessions and connections (the
 * taskUUID namespace is global at Runware: reusing one that is in flight is `conflictTaskUUID`,
 * docs/protocol.md §5.3). A task that failed may be resubmitted with the same UUID (that is how a
 * client retries a transient error); one that is processing or succeeded may not while retained.
 */
import type { Session } from "./session.js";
import type { Timers } from "./timers.js";
import type { Item, WireError } from "./wire.js";

type Generation = { state: "processing" } | { state: "success"; fields: Item } | { state: "error"; error: WireError };

export type TaskStatus = "processing" | "success" | "error";

export interface TaskRecord {
  readonly taskUUID: string;
  readonly taskType: string;
  readonly session: Session;
  /** `deliveryMethod: "async"`: results are kept for getResponse, never pushed. */
  readonly async: boolean;
  /** `webhookURL`: only the acknowledgement goes over the socket; each result is POSTed here (webhook.ts). */
  readonly webhook?: string;
  status: TaskStatus;
  /** One entry per result item (numberResults, promptVersions, ...). */
  generations: Generation[];
  /** A failure of the whole task before any work (validation). */
  failure?: WireError;
  /** Set for task types that report `progress` (video, audio): when each generation finishes. */
  progress?: RenderClock;
}

/** Where a rendering task stands: it started at `startedAt` and generation i finishes `finishAfter[i]` ms later. */
export interface RenderClock {
  readonly startedAt: number;
  readonly finishAfter: readonly number[];
}

/**
 * `progress` of a generation still processing at `now`: the share of its render time elapsed as an
 * integer percentage, 0–99 (Runware's scale is 0–100; a finished generation is a success instead).
 */
export function progressAt(clock: RenderClock, index: number, now: number): number {
  const total = clock.finishAfter[index] ?? 0;
  if (total <= 0) return 99;
  return Math.max(0, Math.min(99, Math.floor((100 * (now - clock.startedAt)) / total)));
}

export class TaskRegistry {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly expiry = new Map<string, NodeJS.Timeout>();
  private processing = 0;

  constructor(
    private readonly timers: Timers,
    private readonly retentionMs: () => number,
  ) {}

  get(taskUUID: string): TaskRecord | undefined {
    return this.tasks.get(taskUUID);
  }

  /** True when a new submission with this UUID must be refused. */
  inUse(taskUUID: string): boolean {
    const rec = this.tasks.get(taskUUID);
    return rec !== undefined && rec.status !== "error";
  }

  /** Register a task (replacing a failed one with the same UUID). */
  add(rec: TaskRecord): void {
    this.timers.cancel(this.expiry.get(rec.taskUUID));
    this.expiry.delete(rec.taskUUID);
    this.tasks.set(rec.taskUUID, rec);
    if (rec.status === "processing") this.processing += 1;
    else this.retain(rec);
  }

  finish(rec: TaskRecord, status: Exclude<TaskStatus, "processing">): void {
    if (rec.status !== "processing") return;
    rec.status = status;
    this.processing -= 1;
    this.retain(rec);
  }

  /** Tasks being worked on now. */
  get outstanding(): number {
    return this.processing;
  }

  private retain(rec: TaskRecord): void {
    const t = this.timers.after(this.retentionMs(), () => {
      this.expiry.delete(rec.taskUUID);
      if (this.tasks.get(rec.taskUUID) === rec) this.tasks.delete(rec.taskUUID);
    });
    this.expiry.set(rec.taskUUID, t);
  }
}
