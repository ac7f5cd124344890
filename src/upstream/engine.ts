/**
 * The task engine: many tasks multiplexed over one upstream link, each routed by taskUUID, each
 * moving through the phases of `lifecycle.ts` by `moveTo()` alone and ending exactly once through
 * `settle()`. It owns the pending map; the queue, the in-flight slots and the outbox are
 * `sending.ts`'s, the deadlines `task-deadlines.ts`'s. A reply is applied by `intake.ts` (what it
 * means: `replies.ts`); retries, polls and recovery are in `reactions.ts` (the rules:
 * `decisions.ts`); polls are timed by `poll-schedule.ts`; asking again about an async task the
 * daemon gave up on is `reopen.ts`.
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
import { expectedResults } from "../protocol/expect.js";
import type { Task } from "../protocol/schemas.js";
import { silentLogger, type Logger } from "../log.js";
import type { RandomSource } from "./backoff.js";
import { Connection, type ReadyInfo } from "./connection.js";
import { LinkTraffic } from "./traffic.js";
import * as decide from "./decisions.js";
import { admission } from "./admission.js";
import { adoptedRecord, type UnfinishedTask } from "./adopt.js";
import { ConflictError, DrainingError } from "./errors.js";
import type { EngineLink } from "./link.js";
import { checkMove, type FinalPhase, type Phase } from "./lifecycle.js";
import { PollSchedule, POLL_COALESCE, firstPoll } from "./poll-schedule.js";
import { isPrepared, prepareTask, type PreparedTask } from "./prepare.js";
import { finalOutcome, reopenedRecord } from "./reopen.js";
import { Sending } from "./sending.js";
import { TaskDeadlines } from "./task-deadlines.js";
import { UNLABELLED, type AcceptedTask, type EngineEvents, type EngineOptions, type SubmitOptions } from "./options.js";
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
  type TaskHandle,
  type TaskOutcome,
  type TaskRecord,
  type TaskSnapshot,
} from "./task.js";
import { systemClock, type Clock } from "../util/clock.js";
import { IdleSignal } from "../util/idle.js";
import { EveryInterval } from "../util/ratelimit.js";

export type { EngineStats } from "./stats.js";
export type { AcceptedTask, EngineEvents, EngineOptions, SubmitOptions } from "./options.js";
export type { UnfinishedTask } from "./adopt.js";

export class UpstreamEngine extends EventEmitter<EngineEvents> {
  readonly connection: EngineLink;
  /** Bytes, pong misses and retries by code, for metrics (traffic.ts). */
  readonly traffic: LinkTraffic;
  private readonly pending = new Map<string, TaskRecord>();
  /** The queue, the slots and the outbox (sending.ts). */
  private readonly sending: Sending;
  private completed = 0;
  private failed = 0;
  private draining = false;
  private closed = false;
  private authFailure: RunwareErrorObject | undefined;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly idle = new IdleSignal();
  /** Every task's deadline: the task timeout, an acknowledged async task's async timeout. */
  private readonly deadlines: TaskDeadlines;
  /** Every task's next getResponse, one timer (poll-schedule.ts). */
  private readonly polls: PollSchedule<TaskRecord>;
  private readonly actions: SliceActions;
  private readonly react: Reactions;

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
    this.traffic = this.connection.traffic ?? new LinkTraffic();
    this.sending = new Sending(this.connection, opts, this.log, (t, to, reason) => this.moveTo(t, to, reason));
    this.deadlines = new TaskDeadlines(this.clock, opts, (t, d, reason) =>
      this.settle(t, d.state, [fill(t, { code: d.code, message: d.message })], reason),
    );
    this.polls = new PollSchedule<TaskRecord>(this.clock, opts.pollMaxMs * POLL_COALESCE, (due) => {
      for (const t of due) if (!t.outcome) this.sending.owe(t, "poll");
    });
    this.react = new Reactions({
      opts,
      random: this.random,
      clock: this.clock,
      log: this.log,
      moveTo: (t, to, reason) => this.moveTo(t, to, reason),
      settle: (t, state, errors, reason) => this.settle(t, state, errors, reason),
      owe: (t, kind) => this.sending.owe(t, kind),
      releaseSlot: (t) => this.sending.release(t),
      requeue: (t) => this.sending.enqueue(t, "front"),
      acked: (t) => this.onAcked(t),
      polls: this.polls,
      retried: (code) => this.traffic.retried(code),
    });
    this.actions = {
      settle: (t, state, errors, reason) => this.settle(t, state, errors, reason),
      errors: (t, errors) => this.react.onErrors(t, errors),
      poll: (t) => this.react.schedulePoll(t),
      acked: (t) => this.onAcked(t),
      log: this.log,
      orphanLog: new EveryInterval(10_000, this.clock), // errors naming no task: one warning per 10 s
    };
    this.connection.on("frame", (f) => applyFrame(f, this.pending, this.actions));
    this.connection.on("ready", (info) => this.onReady(info));
    this.connection.on("down", (epoch, _reason, code) => this.onDown(epoch, code));
    this.connection.on("authFailed", (err) => this.onAuthFailed(err.toRunwareError({ taskType: "authentication" })));
    this.connection.on("state", (to, from, reason) => this.emit("state", to, from, reason));
    this.connection.on("writable", () => this.sending.outbox.request());
  }

  /** Connect; `resumeSessionUUID`: the session a previous daemon process had (its journal), so Runware replays its buffer. */
  start(resumeSessionUUID?: string): void {
    this.connection.start(resumeSessionUUID);
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
    const { waiting } = this.sending;
    return admission(batch, { tasks: waiting.size, bytes: waiting.bytes }, this.opts);
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
      { client: options.client ?? "default", label: options.label ?? UNLABELLED },
      expectedResults(p.frame),
      firstPoll(p.frame["deliveryMethod"] === "async", p.taskType, this.opts),
    );
    this.pending.set(taskUUID, t);
    const handle = handleOf(t);
    if (this.authFailure) {
      // With a rejected key, new tasks fail at once (docs/local-api.md §3.8).
      this.settle(t, "failed", [{ ...this.authFailure, taskUUID, taskType: t.taskType }], "the API key was rejected");
      return handle;
    }
    this.emit("accepted", acceptedOf(t), handle);
    this.deadlines.start(t);
    this.sending.enqueue(t, "back");
    if (this.log.isLevelEnabled("debug")) this.log.debug({ taskUUID, taskType: t.taskType, client: t.client }, "task accepted");
    return handle;
  }

  /**
   * Take up a task a previous daemon process accepted and did not finish (adopt.ts: polled,
   * recovered as after a drop, or queued; never under a new UUID). Call before `start()`, so the
   * first link decides for it as for any task sent before a drop. Outside every admission limit:
   * it was admitted once. Throws for a UUID already pending or a text that is no task.
   */
  adopt(u: UnfinishedTask): TaskHandle {
    if (this.pending.has(u.taskUUID)) throw new ConflictError(u.taskUUID);
    const { t, plan } = adoptedRecord(u, this.opts);
    this.pending.set(t.taskUUID, t);
    const handle = handleOf(t);
    this.emit("accepted", acceptedOf(t), handle);
    if (plan === "poll") {
      this.sending.slots.holdAsync(t);
      this.onAcked(t);
      this.react.startPolling(t, 0, "adopted from the journal: Runware acknowledged it before the restart");
    } else if (plan === "recover") {
      this.deadlines.start(t);
      this.sending.slots.take(t);
      this.moveTo(t, "sent", "adopted from the journal: sent before the restart");
      t.sentEpoch = -1; // an earlier link: the first one decides (resume, or resend under the same UUID)
    } else {
      this.deadlines.start(t);
      this.sending.enqueue(t, "back");
    }
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
    const { waiting, slots } = this.sending;
    const tasks = { queued: waiting.size, inFlight: slots.inFlight, async: slots.async, completed: this.completed, failed: this.failed };
    return statsOf(this.connection, tasks, this.opts);
  }

  /**
   * Ask Runware again about an async task the daemon stopped waiting for (`outcome.askAgain`): it
   * is pending again, polled at once, with a fresh async deadline; its end replaces the record
   * (docs/local-api.md §2.8). Undefined when that cannot be (draining, the key rejected: nothing
   * would answer; pending already).
   */
  reopen(outcome: TaskOutcome): TaskHandle | undefined {
    if (!outcome.askAgain || !this.accepting || this.authFailure || this.pending.has(outcome.taskUUID)) return undefined;
    const t = reopenedRecord(outcome, this.opts);
    this.pending.set(t.taskUUID, t);
    this.sending.slots.holdAsync(t);
    this.onAcked(t);
    this.react.startPolling(t, 0, "a lookup asks Runware again about a task it accepted");
    return handleOf(t);
  }

  /** Bytes of encoded tasks waiting in the queue (metrics). */
  get queuedBytes(): number {
    return this.sending.waiting.bytes;
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
    if (this.pending.size > 0) await this.idle.wait(this.clock, timeoutMs);
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
    this.sending.outbox.close();
    this.deadlines.stop();
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

  // --- link events -------------------------------------------------------------------------------

  private onDown(epoch: number, closeCode: number | undefined): void {
    if (closeCode === decide.MESSAGE_TOO_BIG) {
      const limit = this.sending.outbox.tooBig(epoch);
      this.log.warn({ frameLimit: limit }, `Runware closed the link: a message was too big (1009); frames are now at most ${limit} bytes`);
    }
    this.react.linkDown(this.pending.values(), epoch, closeCode);
    this.sending.outbox.linkDown();
  }

  private onReady(info: ReadyInfo): void {
    this.log.info({ sessionUUID: info.sessionUUID, resumed: info.resumed }, "upstream ready");
    this.emit("session", info.sessionUUID);
    this.react.linkReady([...this.pending.values()], info);
    this.sending.outbox.request();
  }

  private onAuthFailed(error: RunwareErrorObject): void {
    this.authFailure = { code: error.code, message: error.message };
    for (const t of Array.from(this.pending.values())) {
      this.settle(t, "failed", [{ ...this.authFailure, taskUUID: t.taskUUID, taskType: t.taskType }], "the API key was rejected");
    }
  }

  /**
   * Runware has the async task: from now on it is polled work, not in-flight work. Its slot goes
   * to the queue, and it is bounded by asyncTimeoutMs from now, not by the sync task timeout.
   */
  private onAcked(t: TaskRecord): void {
    if (!t.async || t.outcome) return;
    this.sending.acked(t);
    this.deadlines.acked(t);
  }

  // --- the one exit ------------------------------------------------------------------------------

  private settle(t: TaskRecord, state: FinalPhase, errors: RunwareErrorObject[], reason: string): void {
    if (t.outcome) return;
    this.react.clearTimer(t);
    this.deadlines.remove(t);
    this.sending.release(t); // out of the queue, its slot and async place back
    if (state === "done") announceAck(t, this.log); // an async task is acknowledged before it is done
    this.moveTo(t, state, reason);
    t.errors.push(...errors);
    const outcome = finalOutcome(t, state); // in doubt with Runware holding it: a later lookup asks again (reopen.ts)
    t.outcome = outcome;
    this.pending.delete(t.taskUUID);
    if (state === "done") this.completed++;
    else this.failed++;
    notify(t, { type: "final", outcome }, this.log);
    t.listeners = undefined;
    replied(t);
    t.resolve(outcome);
    this.emit("settled", outcome);
    if (this.pending.size === 0) this.idle.idle();
    this.sending.outbox.request();
  }
}

function acceptedOf(t: TaskRecord): AcceptedTask {
  return {
    taskUUID: t.taskUUID,
    taskType: t.taskType,
    text: t.text,
    client: t.client,
    label: t.label,
    costHidden: t.costHidden,
    passthrough: t.passthrough,
  };
}
