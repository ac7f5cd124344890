/**
 * Every pending task's deadline, one timer per kind of deadline (deadlines.ts): the task timeout
 * from submit; for an async task, once Runware acknowledges it, asyncTimeoutMs from then instead;
 * for a long kind (modelUpload, task-kinds.ts), asyncTimeoutMs from submit (docs/local-api.md §3.2,
 * §2.8). What an expired deadline means is decisions.ts's.
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
  /** Long kinds' deadlines: a sync task given the async timeout. */
  private readonly long: DeadlineList<TaskRecord>;

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
    this.long = new DeadlineList<TaskRecord>(clock, (t) => {
      if (!t.outcome) expired(t, decide.onDeadline(t, opts.asyncTimeoutMs), "task timeout (a long task: the async timeout)");
    });
  }

  /** A new task: the task timeout from now (the async timeout for a long kind). */
  start(t: TaskRecord): void {
    if (t.long && !t.async) this.long.add(t, this.clock.now() + this.opts.asyncTimeoutMs);
    else this.sync.add(t, this.clock.now() + this.opts.taskTimeoutMs);
  }

  /** Runware acknowledged the async task: asyncTimeoutMs from now replaces the task timeout (once). */
  acked(t: TaskRecord): void {
    if (t.asyncDeadline) return;
    this.listOf(t).remove(t);
    t.asyncDeadline = true;
    this.async.add(t, this.clock.now() + this.opts.asyncTimeoutMs);
  }

  remove(t: TaskRecord): void {
    this.listOf(t).remove(t);
  }

  private listOf(t: TaskRecord): DeadlineList<TaskRecord> {
    if (t.asyncDeadline) return this.async;
    return t.long && !t.async ? this.long : this.sync;
  }

  stop(): void {
    this.sync.stop();
    this.async.stop();
    this.long.stop();
  }
}
