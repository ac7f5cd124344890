/**
 * Every pending task's deadline, one timer per kind of deadline (deadlines.ts): the task timeout
 * from submit, and for an async task, once Runware acknowledges it, asyncTimeoutMs from then
 * instead (docs/local-api.md §3.2, §2.8). What an expired deadline means is decisions.ts's.
 */
import * as decide from "./decisions.js";
import { DeadlineList } from "./deadlines.js";
import type { TaskRecord } from "./task.js";
import type { Clock } from "../util/clock.js";

export type Expired = (t: TaskRecord, d: decide.DeadlineDecision, reason: string) => void;

export class TaskDeadlines {
  private readonly sync: DeadlineList<TaskRecord>;
  /** Acknowledged async tasks' deadlines (`asyncDeadline`). */
  private readonly async: DeadlineList<TaskRecord>;

  constructor(
    private readonly clock: Clock,
    private readonly opts: { readonly taskTimeoutMs: number; readonly asyncTimeoutMs: number },
    expired: Expired,
  ) {
    this.sync = new DeadlineList<TaskRecord>(clock, (t) => {
      if (!t.outcome) expired(t, decide.onDeadline(t, opts.taskTimeoutMs), "task timeout");
    });
    this.async = new DeadlineList<TaskRecord>(clock, (t) => {
      if (!t.outcome) expired(t, decide.onAsyncDeadline(t, opts.asyncTimeoutMs), "async timeout");
    });
  }

  /** A new task: the task timeout from now. */
  start(t: TaskRecord): void {
    this.sync.add(t, this.clock.now() + this.opts.taskTimeoutMs);
  }

  /** Runware acknowledged the async task: asyncTimeoutMs from now replaces the task timeout (once). */
  acked(t: TaskRecord): void {
    if (t.asyncDeadline) return;
    this.sync.remove(t);
    t.asyncDeadline = true;
    this.async.add(t, this.clock.now() + this.opts.asyncTimeoutMs);
  }

  remove(t: TaskRecord): void {
    (t.asyncDeadline ? this.async : this.sync).remove(t);
  }

  stop(): void {
    this.sync.stop();
    this.async.stop();
  }
}
