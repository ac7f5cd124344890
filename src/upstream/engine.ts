/**
 * The task engine: many tasks multiplexed over one upstream link, each routed by taskUUID, each
 * moving through the phases of `lifecycle.ts` by `moveTo()` alone and ending exactly once through
 * `settle()`. It owns the pending map, the in-flight slots and the queue. A reply is applied by
 * `intake.ts` (what it means: `replies.ts`); retries, polls and recovery are in `reactions.ts`
 * (the rules: `decisions.ts`); frames leave through `outbox.ts`.
 *
 * Guarantees (docs/local-api.md §3) and the Runware facts behind them (docs/protocol.md):
 * - A task is never sent under a new UUID: every resend reuses it (the official SDK re-sends lost
 *   work under a fresh one, a second generation and a second charge; docs/protocol.md §10.1).
 * - After a drop, tasks stay pending. A resumed session replays Runware's buffer; what is still
 *   missing after a grace period is fetched with getResponse. A fresh session means the buffer is
 *   gone: tasks are resubmitted under the same UUID; `conflictTaskUUID` switches one to polling.
 * - Transient codes are retried with jittered backoff, permanent ones never (protocol/codes.ts).
 * - Never more than `maxInFlight` tasks outstanding upstream; the rest wait in a fair, bounded queue.
 */
import { EventEmitter } from "eventemitter3";
import type { RunwareDaemonError, RunwareErrorObject } from "../errors.js";
import type { SplitFrame } from "../protocol/codec.js";
import { expectedResults } from "../protocol/expect.js";
import { firstPollMs } from "../protocol/task-kinds.js";
import type { Task } from "../protocol/schemas.js";
import { silentLogger, type Logger } from "../log.js";
import type { RandomSource } from "./backoff.js";
import { Connection, type ReadyInfo } from "./connection.js";
import * as decide from "./decisions.js";
import { MESSAGE_TOO_BIG } from "./decisions.js";
import { DeadlineList } from "./deadlines.js";
import { admission } from "./admission.js";
import { ConflictError, DrainingError } from "./errors.js";
import type { EngineLink } from "./link.js";
import { checkMove, type FinalPhase, type Phase } from "./lifecycle.js";
import { Outbox, type OutItem } from "./outbox.js";
import { PollSchedule, POLL_COALESCE, firstDelay } from "./poll-schedule.js";
import { isPrepared, prepareTask, type PreparedTask } from "./prepare.js";
import { reopenedRecord } from "./reopen.js";
import { WaitingLine } from "./waiting.js";
import type { EngineEvents, EngineOptions, SubmitOptions } from "./options.js";
import { Reactions } from "./reactions.js";
import { fill } from "./replies.js";
import { announceAck, applyFrame, type SliceActions } from "./intake.js";
import { statsOf, type EngineStats } from "./stats.js";
import {
  handleOf,
  newRecord,
  notify,
  replied,
  snapshotOf,
  submission,
  type TaskHandle,
  type TaskOutcome,
  type TaskRecord,
  type TaskSnapshot,
} from "./task.js";
import { systemClock, type Clock, type Timer } from "../util/clock.js";
import { EveryInterval } from "../util/ratelimit.js";

export type { EngineStats } from "./stats.js";
export type { EngineEvents, EngineOptions, SubmitOptions } from "./options.js";

export class UpstreamEngine extends EventEmitter<EngineEvents> {
  readonly connection: EngineLink;
  private readonly pending = new Map<string, TaskRecord>();
  private readonly waiting = new WaitingLine();
  private readonly outbox: Outbox;
  private inFlight = 0;
  /** Async tasks counted against maxAsync (`holdsAsync`). */
  private asyncCount = 0;
  private completed = 0;
  private failed = 0;
  private draining = false;
  private closed = false;
  private authFailure: RunwareErrorObject | undefined;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private idleWaiters: Array<() => void> = [];
  /** One timer for every task's deadline (deadlines.ts). */
  private readonly deadlines: DeadlineList<TaskRecord>;
  /** Acknowledged async tasks' deadlines (asyncTimeoutMs from the ack), also one timer. */
  private readonly asyncDeadlines: DeadlineList<TaskRecord>;
  /** Every task's next getResponse, one timer (poll-schedule.ts). */
  private readonly polls: PollSchedule<TaskRecord>;
  private readonly actions: SliceActions;
  private readonly react: Reactions;
  /** One warning per 10 s for errors that name no task, with a count of the rest. */
  private readonly orphanLog: EveryInterval;

  /** `link` defaults to a `Connection` built from `opts`; tests pass a fake one. */
  constructor(
    private readonly opts: EngineOptions,
    link?: EngineLink,
  ) {
    super();
    const logger = opts.logger ?? silentLogger;
    this.log = logger.child({ mod: "engine" });
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.connection = link ?? new Connection({ ...opts, random: this.random, clock: this.clock, logger });
    this.outbox = new Outbox(
      this.connection,
      { highWaterBytes: opts.sendHighWaterBytes, maxFrameBytes: opts.maxFrameBytes, logger: this.log },
      (frames, epoch) => this.takeFromQueue(frames, epoch),
    );
    this.deadlines = new DeadlineList<TaskRecord>(this.clock, (t) => {
      if (!t.outcome) this.onDeadline(t);
    });
    this.asyncDeadlines = new DeadlineList<TaskRecord>(this.clock, (t) => {
      if (!t.outcome) this.onAsyncDeadline(t);
    });
    this.polls = new PollSchedule<TaskRecord>(this.clock, opts.pollMaxMs * POLL_COALESCE, (due) => {
      for (const t of due) if (!t.outcome) this.owe(t, "poll");
    });
    this.orphanLog = new EveryInterval(10_000, this.clock);
    this.react = new Reactions({
      opts,
      random: this.random,
      clock: this.clock,
      log: this.log,
      moveTo: (t, to, reason) => this.moveTo(t, to, reason),
      settle: (t, state, errors, reason) => this.settle(t, state, errors, reason),
      owe: (t, kind) => this.owe(t, kind),
      releaseSlot: (t) => this.releaseSlot(t),
      requeue: (t) => this.enqueue(t, "front"),
      acked: (t) => this.onAcked(t),
      polls: this.polls,
    });
    this.actions = {
      settle: (t, state, errors, reason) => this.settle(t, state, errors, reason),
      errors: (t, errors) => this.react.onErrors(t, errors),
      poll: (t) => this.react.schedulePoll(t),
      acked: (t) => this.onAcked(t),
      log: this.log,
    };
    this.connection.on("frame", (f) => this.onFrame(f));
    this.connection.on("ready", (info) => this.onReady(info));
    this.connection.on("down", (epoch, _reason, code) => this.onDown(epoch, code));
    this.connection.on("authFailed", (err) => this.onAuthFailed(err.toRunwareError({ taskType: "authentication" })));
    this.connection.on("state", (to, from, reason) => this.emit("state", to, from, reason));
    this.connection.on("writable", () => this.outbox.request());
  }

  start(): void {
    this.connection.start();
  }

  /**
   * Encode and measure a task once (prepare.ts), assigning a taskUUID where missing. Throws
   * `TaskEncodingError` or `TaskTooLargeError` for that task alone; nothing is queued.
   */
  prepare(input: Omit<Task, "taskUUID"> & { taskUUID?: string }): PreparedTask {
    return prepareTask(input, this.opts);
  }

  /**
   * Whether a whole batch fits now, so a batch is accepted entirely or not at all: undefined when
   * it does, else why not (admission.ts).
   */
  admit(batch: readonly { bytes: number }[]): RunwareDaemonError | undefined {
    if (this.draining || this.closed) return new DrainingError();
    if (this.authFailure) return undefined; // they fail at once, queued nowhere
    return admission(batch, { tasks: this.waiting.size, bytes: this.waiting.bytes }, this.opts);
  }

  /**
   * Accept a task. Throws (synchronously, nothing sent) for a duplicate in-flight UUID, a full
   * queue, a draining engine, or a task that cannot be encoded or sent. The task must already be
   * valid (`TaskSchema`); a missing `taskUUID` is assigned here.
   */
  submit(input: (Omit<Task, "taskUUID"> & { taskUUID?: string }) | PreparedTask, options: SubmitOptions = {}): TaskHandle {
    if (this.draining || this.closed) throw new DrainingError();
    const p = isPrepared(input) ? input : this.prepare(input);
    const taskUUID = p.taskUUID;
    if (this.pending.has(taskUUID)) throw new ConflictError(taskUUID);
    if (!this.authFailure) {
      const refused = this.admit([p]);
      if (refused) throw refused;
    }
    const t = newRecord(
      p,
      options.client ?? "default",
      expectedResults(p.frame),
      this.firstPoll(p.frame["deliveryMethod"] === "async", p.taskType),
    );
    this.pending.set(taskUUID, t);
    const handle = handleOf(t);
    if (this.authFailure) {
      // With a rejected key, new tasks fail at once (docs/local-api.md §3.8).
      this.settle(t, "failed", [{ ...this.authFailure, taskUUID, taskType: t.taskType }], "the API key was rejected");
      return handle;
    }
    this.deadlines.add(t, this.clock.now() + this.opts.taskTimeoutMs);
    this.enqueue(t, "back");
    if (this.log.isLevelEnabled("debug")) this.log.debug({ taskUUID, taskType: t.taskType, client: t.client }, "task accepted");
    return handle;
  }

  /** The handle of a pending task (a second reader attaching to it). */
  handle(taskUUID: string): TaskHandle | undefined {
    const t = this.pending.get(taskUUID);
    return t ? handleOf(t) : undefined;
  }

  get accepting(): boolean {
    return !this.draining && !this.closed;
  }

  /** The live record of a pending task, as a snapshot. */
  get(taskUUID: string): TaskSnapshot | undefined {
    const t = this.pending.get(taskUUID);
    return t ? snapshotOf(t) : undefined;
  }

  stats(): EngineStats {
    return statsOf(
      this.connection,
      { queued: this.waiting.size, inFlight: this.inFlight, async: this.asyncCount, completed: this.completed, failed: this.failed },
      this.opts,
    );
  }

  /**
   * Ask Runware again about an async task the daemon stopped waiting for (`outcome.askAgain`): it
   * is pending again, polled at once, with a fresh async deadline; its end replaces the record
   * (docs/local-api.md §2.8). Undefined when that cannot be (draining, pending already).
   */
  reopen(outcome: TaskOutcome): TaskHandle | undefined {
    if (!outcome.askAgain || this.draining || this.closed || this.pending.has(outcome.taskUUID)) return undefined;
    const t = reopenedRecord(outcome, this.opts, (async, taskType) => this.firstPoll(async, taskType));
    this.pending.set(t.taskUUID, t);
    t.holdsAsync = true;
    this.asyncCount++;
    this.onAcked(t);
    this.react.startPolling(t, 0, "a lookup asks Runware again about a task it accepted");
    return handleOf(t);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Stop taking work, let pending tasks finish for up to `timeoutMs`, then end the rest (in doubt
   * if they were sent) and close the connection. Every caller gets an answer.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.connection.drain();
    if (this.pending.size > 0) {
      let timer: Timer | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => {
          timer = this.clock.setTimeout(r, timeoutMs);
        }),
      ]);
      this.clock.clearTimeout(timer);
    }
    await this.close("drained");
  }

  /** End every pending task now and close the connection. */
  async close(reason = "engine closed"): Promise<void> {
    this.draining = true;
    this.closed = true;
    for (const t of Array.from(this.pending.values())) {
      const d = decide.onStop(t, reason);
      this.settle(t, d.state, [{ code: d.code, message: d.message, taskUUID: t.taskUUID, taskType: t.taskType }], reason);
    }
    this.outbox.close();
    this.deadlines.stop();
    this.asyncDeadlines.stop();
    this.polls.stop();
    await this.connection.close(reason);
  }

  // --- the one place a task changes phase --------------------------------------------------------

  private moveTo(t: TaskRecord, to: Phase, reason: string): void {
    const from = t.phase;
    if (from === to) return;
    checkMove(from, to, reason);
    t.phase = to;
    t.moves++;
    if (this.log.isLevelEnabled("debug")) this.log.debug({ taskUUID: t.taskUUID, from, to, reason }, `task ${from} -> ${to}`);
    this.emit("move", t.taskUUID, from, to, reason);
  }

  // --- sending -----------------------------------------------------------------------------------

  /** Into the queue: new work at the back of its caller's line, a retry at the front. */
  private enqueue(t: TaskRecord, where: "back" | "front"): void {
    this.waiting.push(t, where);
    this.outbox.request();
  }

  /** Queued tasks take the free slots at each flush of the outbox; an async one also a place under maxAsync (waiting.ts). */
  private takeFromQueue(items: OutItem[], epoch: number): void {
    while (this.inFlight < this.opts.maxInFlight) {
      const t = this.waiting.take(this.asyncCount < this.opts.maxAsync);
      if (!t) break;
      if (t.outcome || t.holdsSlot) continue; // defensive: never twice, never after the end
      if (t.async && !t.holdsAsync) {
        t.holdsAsync = true;
        this.asyncCount++;
      }
      this.inFlight++;
      t.holdsSlot = true;
      this.moveTo(t, "sent", "an in-flight slot is free");
      t.sentEpoch = epoch;
      items.push(submission(t));
    }
  }

  /** A frame owed by a task holding its slot; dropped if the task has moved on by the flush. */
  private owe(t: TaskRecord, kind: "submit" | "poll"): void {
    const moves = t.moves;
    this.outbox.owe((epoch) => {
      if (t.moves !== moves) return undefined;
      t.sentEpoch = epoch;
      if (kind === "poll") return { text: `{"taskType":"getResponse","taskUUID":${JSON.stringify(t.taskUUID)}}` };
      return submission(t);
    });
  }

  // --- receiving ---------------------------------------------------------------------------------

  private onFrame(frame: SplitFrame): void {
    applyFrame(frame, this.pending, this.actions);
    if (frame.orphanErrors.length === 0) return;
    const held = this.orphanLog.hit();
    if (held !== undefined) this.log.warn({ errors: frame.orphanErrors.slice(0, 5), heldBack: held }, "upstream errors without a taskUUID");
  }

  // --- link events -------------------------------------------------------------------------------

  private onDown(epoch: number, closeCode: number | undefined): void {
    if (closeCode === MESSAGE_TOO_BIG) {
      const limit = this.outbox.tooBig(epoch);
      this.log.warn({ frameLimit: limit }, `Runware closed the link: a message was too big (1009); frames are now at most ${limit} bytes`);
    }
    this.react.linkDown(this.pending.values(), epoch, closeCode);
    this.outbox.linkDown();
  }

  private onReady(info: ReadyInfo): void {
    this.log.info({ sessionUUID: info.sessionUUID, resumed: info.resumed }, "upstream ready");
    this.react.linkReady([...this.pending.values()], info);
    this.outbox.request();
  }

  private onAuthFailed(error: RunwareErrorObject): void {
    this.authFailure = { code: error.code, message: error.message };
    for (const t of Array.from(this.pending.values())) {
      this.settle(t, "failed", [{ ...this.authFailure, taskUUID: t.taskUUID, taskType: t.taskType }], "the API key was rejected");
    }
  }

  private onDeadline(t: TaskRecord): void {
    const d = decide.onDeadline(t, this.opts.taskTimeoutMs);
    this.settle(t, d.state, [fill(t, { code: d.code, message: d.message })], "task timeout");
  }

  private onAsyncDeadline(t: TaskRecord): void {
    const d = decide.onAsyncDeadline(t, this.opts.asyncTimeoutMs);
    this.settle(t, d.state, [fill(t, { code: d.code, message: d.message })], "async timeout");
  }

  /**
   * Runware has the async task: from now on it is polled work, not in-flight work. Its slot goes
   * to the queue, and it is bounded by asyncTimeoutMs from now, not by the sync task timeout.
   */
  private onAcked(t: TaskRecord): void {
    if (!t.async || t.outcome) return;
    if (t.holdsSlot) {
      t.holdsSlot = false;
      this.inFlight--;
      this.outbox.request();
    }
    if (t.asyncDeadline) return;
    this.deadlines.remove(t);
    t.asyncDeadline = true;
    this.asyncDeadlines.add(t, this.clock.now() + this.opts.asyncTimeoutMs);
  }

  /** An async task's first poll: its kind's delay (protocol/task-kinds.ts), within the cap; others start at pollInitialMs. */
  private firstPoll(async: boolean, taskType: string): number {
    return async ? firstDelay(firstPollMs(taskType, this.opts.pollInitialMs), this.opts) : this.opts.pollInitialMs;
  }

  // --- the one exit ------------------------------------------------------------------------------

  private settle(t: TaskRecord, state: FinalPhase, errors: RunwareErrorObject[], reason: string): void {
    if (t.outcome) return;
    this.react.clearTimer(t);
    (t.asyncDeadline ? this.asyncDeadlines : this.deadlines).remove(t);
    if (t.phase === "queued") this.waiting.remove(t);
    this.releaseSlot(t);
    if (state === "done") announceAck(t, this.log); // an async task is acknowledged before it is done
    this.moveTo(t, state, reason);
    t.errors.push(...errors);
    const outcome: TaskOutcome = { taskUUID: t.taskUUID, taskType: t.taskType, state, data: t.data, errors: t.errors };
    if (state === "in-doubt" && t.async && t.acked) {
      // Runware has it and keeps its results for getResponse: a later lookup asks again (reopen).
      outcome.askAgain = true;
      if (t.expect.kind === "count") outcome.expected = t.expect.count;
    }
    t.outcome = outcome;
    this.pending.delete(t.taskUUID);
    if (state === "done") this.completed++;
    else this.failed++;
    notify(t, { type: "final", outcome }, this.log);
    t.listeners = undefined;
    replied(t);
    t.resolve(outcome);
    this.emit("settled", outcome);
    if (this.pending.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.outbox.request();
  }

  /** Give back the in-flight slot and the async count (at the end, or for a retry's wait). */
  private releaseSlot(t: TaskRecord): void {
    if (t.holdsAsync) {
      t.holdsAsync = false;
      this.asyncCount--;
      this.outbox.request();
    }
    if (!t.holdsSlot) return;
    t.holdsSlot = false;
    this.inFlight--;
  }
}
