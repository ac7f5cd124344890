/**
 * The task engine: many tasks multiplexed over one Connection, each routed by taskUUID, each ending
 * exactly once through `settle()`.
 *
 * Guarantees (contract §3) and the Runware facts behind them:
 * - A task is never sent under a new UUID. sdk-js re-sends lost work under a fresh UUID, a second
 *   generation and a second charge (sdk-anchors.md §2.6); every resend here reuses the UUID.
 * - After a drop, tasks stay pending. A resumed session replays Runware's buffer; what is still
 *   missing after a grace period is fetched with getResponse. A fresh session means the buffer is
 *   gone: tasks are re-submitted under the same UUID, and `conflictTaskUUID` ("still running or
 *   done there") switches the task to getResponse polling (the sdk-python model).
 * - Transient codes are retried with jittered backoff, permanent ones never (protocol/codes.ts).
 * - Never more than `maxInFlight` tasks outstanding upstream; the rest wait in a fair, bounded queue.
 */
import { EventEmitter } from "eventemitter3";
import { randomUUID } from "node:crypto";
import type { RunwareErrorObject } from "../errors.js";
import { encodeTasks, type Slice, type SplitFrame } from "../protocol/codec.js";
import { isTransientCode } from "../protocol/codes.js";
import { expectedResults, isComplete } from "../protocol/expect.js";
import type { DataItem, Task } from "../protocol/schemas.js";
import { silentLogger, type Logger } from "../log.js";
import { backoffDelay, type RandomSource } from "./backoff.js";
import { Connection, type ConnectionOptions, type ReadyInfo } from "./connection.js";
import { ConflictError, DrainingError, QueueFullError, TASK_ABORTED_CODE, TASK_IN_DOUBT_CODE, TASK_TIMEOUT_CODE } from "./errors.js";
import { FairQueue } from "./queue.js";
import { fill, inDoubt, isPollAnswer, NOT_FOUND_CODES, PENDING_STATUSES } from "./replies.js";
import { DeadlineList } from "./deadlines.js";
import { systemClock, type Clock, type Timer } from "../util/clock.js";
import type { ConnState } from "./state.js";
import {
  resultIdentity,
  snapshotOf,
  type TaskEvent,
  type TaskHandle,
  type TaskOutcome,
  type TaskRecord,
  type TaskSnapshot,
} from "./task.js";

export interface EngineOptions extends Omit<ConnectionOptions, "random" | "logger" | "clock"> {
  maxInFlight: number;
  maxQueued: number;
  taskTimeoutMs: number;
  maxTaskRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollInitialMs: number;
  pollFactor: number;
  pollMaxMs: number;
  recoveryGraceMs: number;
  maxRecoveryResends: number;
  sendHighWaterBytes: number;
  random?: RandomSource;
  clock?: Clock;
  logger?: Logger;
}

export interface SubmitOptions {
  /** Who submitted: the queue is fair between clients. */
  client?: string;
}

export interface EngineStats {
  upstream: {
    state: ConnState;
    sessionUUID: string | null;
    connectedSince: string | null;
    reconnects: number;
    lastError: string | null;
  };
  tasks: { queued: number; inFlight: number; completed: number; failed: number };
  limits: { maxInFlight: number; maxQueued: number };
}

export interface EngineEvents {
  /** A task ended; its outcome is final. */
  settled: [outcome: TaskOutcome];
  state: [to: ConnState, from: ConnState, reason: string];
}

type Outbound = { t: TaskRecord; kind: "submit" | "poll" };

export class UpstreamEngine extends EventEmitter<EngineEvents> {
  readonly connection: Connection;
  private readonly pending = new Map<string, TaskRecord>();
  private readonly queue = new FairQueue<TaskRecord>();
  /** Frames owed upstream by tasks that already hold a slot (recovery resends, polls). */
  private outbox: Outbound[] = [];
  private inFlight = 0;
  private completed = 0;
  private failed = 0;
  private awaitingWrite = false;
  private draining = false;
  private closed = false;
  private authFailure: RunwareErrorObject | undefined;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private idleWaiters: Array<() => void> = [];
  /** One timer for every task's deadline (deadlines.ts). */
  private readonly deadlines: DeadlineList<TaskRecord>;
  /** A pump is due on the next turn: everything submitted in one turn leaves in one frame. */
  private pumpImmediate: NodeJS.Immediate | undefined;

  constructor(private readonly opts: EngineOptions) {
    super();
    this.log = (opts.logger ?? silentLogger).child({ mod: "engine" });
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.connection = new Connection({ ...opts, random: this.random, clock: this.clock, logger: opts.logger ?? silentLogger });
    this.deadlines = new DeadlineList<TaskRecord>(this.clock, (t) => this.onDeadline(t));
    this.connection.on("frame", (f) => this.onFrame(f));
    this.connection.on("ready", (info) => this.onReady(info));
    this.connection.on("down", (epoch) => this.onDown(epoch));
    this.connection.on("authFailed", (err) => this.onAuthFailed(err.toRunwareError({ taskType: "authentication" })));
    this.connection.on("state", (to, from, reason) => this.emit("state", to, from, reason));
    this.connection.on("writable", () => this.requestPump());
  }

  start(): void {
    this.connection.start();
  }

  /**
   * Accept a task. Throws (synchronously, nothing sent) for a duplicate in-flight UUID, a full
   * queue, or a draining engine. The task must already be valid (`TaskSchema`); a missing
   * `taskUUID` is assigned here.
   */
  submit(input: Omit<Task, "taskUUID"> & { taskUUID?: string }, options: SubmitOptions = {}): TaskHandle {
    if (this.draining || this.closed) throw new DrainingError();
    const taskUUID = input.taskUUID ?? randomUUID();
    if (this.pending.has(taskUUID)) throw new ConflictError(taskUUID);
    if (this.queue.size >= this.opts.maxQueued && !this.authFailure) throw new QueueFullError(this.opts.maxQueued);
    // The caller's object is the frame as it is (no copy per task) unless a UUID must be added.
    const frame = (input.taskUUID ? input : { ...input, taskUUID }) as Task;

    let resolve!: (o: TaskOutcome) => void;
    const done = new Promise<TaskOutcome>((r) => (resolve = r));
    const t: TaskRecord = {
      taskUUID,
      taskType: frame.taskType,
      frame,
      client: options.client ?? "default",
      expect: expectedResults(frame),
      async: frame["deliveryMethod"] === "async",
      passthrough: frame.taskType === "getResponse",
      phase: "queued",
      outcome: undefined,
      data: [],
      errors: [],
      seen: undefined,
      submits: 0,
      retries: 0,
      recoveryResends: 0,
      sentEpoch: -1,
      lostContact: false,
      acked: false,
      ackAnnounced: false,
      holdsSlot: false,
      pollDelayMs: this.opts.pollInitialMs,
      timer: undefined,
      listeners: undefined,
      deadlineAt: 0,
      dlPrev: undefined,
      dlNext: undefined,
      dlLinked: false,
      resolve,
      done,
    };
    const handle = this.handleOf(t);
    if (this.authFailure) {
      // Contract §3.8: with a rejected key, new tasks fail at once.
      this.pending.set(taskUUID, t);
      this.settle(t, "failed", [{ ...this.authFailure, taskUUID, taskType: t.taskType }]);
      return handle;
    }
    this.pending.set(taskUUID, t);
    this.deadlines.add(t, this.clock.now() + this.opts.taskTimeoutMs);
    this.queue.push(t.client, t);
    if (this.log.isLevelEnabled("debug")) this.log.debug({ taskUUID, taskType: t.taskType, client: t.client }, "task accepted");
    this.requestPump();
    return handle;
  }

  /** The handle of a pending task (a second reader attaching to it). */
  handle(taskUUID: string): TaskHandle | undefined {
    const t = this.pending.get(taskUUID);
    return t ? this.handleOf(t) : undefined;
  }

  /** How many more tasks a submit may bring now before the queue refuses them. */
  capacity(): number {
    return this.authFailure ? Number.POSITIVE_INFINITY : this.opts.maxQueued - this.queue.size;
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
    const c = this.connection;
    return {
      upstream: {
        state: c.state,
        sessionUUID: c.sessionUUID ?? null,
        connectedSince: c.connectedSince ? new Date(c.connectedSince).toISOString() : null,
        reconnects: c.reconnects,
        lastError: c.lastError ?? null,
      },
      tasks: { queued: this.queue.size, inFlight: this.inFlight, completed: this.completed, failed: this.failed },
      limits: { maxInFlight: this.opts.maxInFlight, maxQueued: this.opts.maxQueued },
    };
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
    for (const t of [...this.pending.values()]) {
      const sent = t.submits > 0;
      this.settle(t, sent ? "in-doubt" : "failed", [
        {
          code: sent ? TASK_IN_DOUBT_CODE : TASK_ABORTED_CODE,
          message: sent
            ? `the daemon stopped (${reason}) while the task was running upstream; it may have completed there`
            : `the daemon stopped (${reason}) before the task was sent; it was not run`,
          taskUUID: t.taskUUID,
          taskType: t.taskType,
        },
      ]);
    }
    this.outbox = [];
    if (this.pumpImmediate) clearImmediate(this.pumpImmediate);
    this.pumpImmediate = undefined;
    this.deadlines.stop();
    await this.connection.close(reason);
  }

  // --- sending -----------------------------------------------------------------------------------

  /**
   * Pump on the next turn of the event loop, once, however many tasks arrived in this one: they
   * then share one frame (measured: 23,000 single-task requests went out in 3,183 frames, and the
   * daemon's CPU per task fell 10-15%; docs/benchmarks.md).
   */
  private requestPump(): void {
    if (this.pumpImmediate || this.closed) return;
    this.pumpImmediate = setImmediate(() => {
      this.pumpImmediate = undefined;
      this.pumpNow();
    });
  }

  /** Move work to the socket while the link is writable, slots are free and the socket keeps up. */
  private pumpNow(): void {
    if (!this.connection.writable || this.awaitingWrite) return;
    const frames: object[] = [];
    const epoch = this.connection.epoch;
    const owed = this.outbox;
    this.outbox = [];
    for (const { t, kind } of owed) {
      if (t.outcome) continue;
      if (kind === "submit") {
        frames.push(t.frame);
        t.submits++;
      } else {
        frames.push({ taskType: "getResponse", taskUUID: t.taskUUID });
      }
      t.sentEpoch = epoch;
    }
    while (this.inFlight < this.opts.maxInFlight && this.queue.size > 0) {
      const t = this.queue.shift() as TaskRecord;
      if (t.outcome || t.holdsSlot) continue; // defensive: never twice, never after the end
      this.inFlight++;
      t.holdsSlot = true;
      t.phase = t.acked ? "polling" : "sent";
      t.submits++;
      t.sentEpoch = epoch;
      frames.push(t.frame);
    }
    if (frames.length === 0) return;
    // One frame for the lot: Runware takes an array of tasks per message (runware-protocol.md §1).
    const text = encodeTasks(frames);
    if (this.log.isLevelEnabled("trace")) this.log.trace({ tasks: frames.length, bytes: text.length }, "frame out");
    if (this.connection.bufferedAmount + text.length > this.opts.sendHighWaterBytes) {
      this.awaitingWrite = true;
      this.connection.send(text, () => {
        this.awaitingWrite = false;
        this.requestPump();
      });
    } else {
      this.connection.send(text);
    }
  }

  private owe(t: TaskRecord, kind: Outbound["kind"]): void {
    this.outbox.push({ t, kind });
    this.requestPump();
  }

  // --- receiving ---------------------------------------------------------------------------------

  private onFrame(frame: SplitFrame): void {
    for (const [uuid, slice] of frame.tasks) {
      const t = this.pending.get(uuid);
      if (!t) {
        this.log.debug({ taskUUID: uuid }, "reply for a task that is not pending (late or foreign); dropped");
        continue;
      }
      this.onSlice(t, slice);
    }
    if (frame.orphanErrors.length > 0) {
      this.log.warn({ errors: frame.orphanErrors }, "upstream errors without a taskUUID");
    }
  }

  private onSlice(t: TaskRecord, slice: Slice): void {
    t.lostContact = false;
    if (t.passthrough) {
      // A caller's getResponse: the reply is the answer, whatever it says.
      for (const item of slice.items) this.addItem(t, item, false);
      if (slice.errors.length > 0)
        this.settle(
          t,
          "failed",
          slice.errors.map((e) => fill(t, e)),
        );
      else this.settle(t, "done");
      return;
    }
    if (t.phase === "queued" || t.phase === "retry-wait") {
      // Nothing of ours is outstanding: this answers an attempt that is over (a second error of
      // the attempt being retried, a late poll answer). Found by review: acting on it queued the
      // task twice or put it into polling without a slot, and the in-flight count drifted.
      this.keepFinishedResults(t, slice);
      return;
    }
    if (t.phase !== "polling" && isPollAnswer(t, slice)) {
      // We only poll in the polling phase, so this answers a poll sent before the task was
      // resubmitted (retry or recovery), and describes the attempt that is over. Found by the
      // chaos run (seed 8004): its errors were taken for new ones, retried twice, and the task
      // held two in-flight slots. Only finished results are still worth keeping.
      this.keepFinishedResults(t, slice);
      return;
    }
    const errors = slice.errors.map((e) => fill(t, e));
    let processing = false;
    slice.items.forEach((item, index) => {
      const status = item["status"];
      if (status === "error") {
        // The item-level failure form of getResponse (rw-ts GetResponseResult.error).
        const e = item["error"] as Partial<RunwareErrorObject> | undefined;
        errors.push(fill(t, { code: e?.code ?? "taskFailed", message: e?.message ?? "generation failed" }));
      } else if (typeof status === "string" && PENDING_STATUSES.has(status)) {
        processing = true;
        this.markAcked(t);
      } else if (t.async && !t.acked && resultIdentity(item) === undefined && status !== "success") {
        processing = true;
        this.markAcked(t, item); // the async acknowledgement: {taskType, taskUUID}
      } else {
        if (t.async) this.markAcked(t);
        this.addItem(t, item, t.phase === "polling" ? `poll#${index}` : undefined);
      }
    });
    if (t.outcome) return;
    if (errors.length > 0) {
      this.onErrors(t, errors);
      return;
    }
    if (isComplete(t.expect, t.data)) {
      this.settle(t, "done");
      return;
    }
    if (processing || t.phase === "polling") this.schedulePoll(t);
  }

  /**
   * Runware has the task. For an async task callers are told once, whichever way we learned it:
   * the acknowledgement itself may have been lost with a link (found by the chaos run, seed 5),
   * and a local WebSocket client waits for it before it polls.
   */
  private markAcked(t: TaskRecord, item?: DataItem): void {
    t.acked = true;
    if (!t.async || t.ackAnnounced) return;
    t.ackAnnounced = true;
    this.notify(t, { type: "ack", item: item ?? { taskType: t.taskType, taskUUID: t.taskUUID } });
  }

  /** From an answer about an attempt that is over: keep what finished, act on nothing else. */
  private keepFinishedResults(t: TaskRecord, slice: Slice): void {
    for (const item of slice.items) {
      const status = item["status"];
      if (status === "success" || (status === undefined && resultIdentity(item) !== undefined)) this.addItem(t, item, undefined);
    }
    if (isComplete(t.expect, t.data)) this.settle(t, "done");
  }

  private addItem(t: TaskRecord, item: DataItem, fallbackKey: string | false | undefined): void {
    const key = resultIdentity(item) ?? (fallbackKey || undefined);
    if (key !== undefined) {
      t.seen ??= new Set();
      if (t.seen.has(key)) return;
      t.seen.add(key);
    }
    t.data.push(item);
    this.notify(t, { type: "data", item });
  }

  private onErrors(t: TaskRecord, errors: RunwareErrorObject[]): void {
    const code = errors[0]?.code ?? "unknownError";
    if (code === "conflictTaskUUID") {
      // Runware has this UUID: our own earlier submission (a recovery resend), or a caller resuming
      // work an earlier daemon sent (batch resume). Either way it is running or done there: fetch
      // its results, never run it again.
      this.log.info({ taskUUID: t.taskUUID, submits: t.submits }, "conflictTaskUUID: switching to getResponse");
      this.markAcked(t);
      this.startPolling(t, 0);
      return;
    }
    if (NOT_FOUND_CODES.has(code)) {
      this.onNotFound(t, errors);
      return;
    }
    const transient = errors.every((e) => isTransientCode(e.code));
    if (transient && t.retries < this.opts.maxTaskRetries) {
      t.retries++;
      const delay = backoffDelay(
        t.retries - 1,
        { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryMaxMs, floorMs: 0, factor: 2 },
        this.random,
      );
      for (const e of errors) this.notify(t, { type: "error", error: e, retrying: true });
      this.log.info({ taskUUID: t.taskUUID, code, retry: t.retries, delay }, "transient error; retrying under the same taskUUID");
      this.releaseSlot(t);
      this.requestPump(); // the freed slot serves the queue during the wait
      t.phase = "retry-wait";
      t.acked = false;
      t.pollDelayMs = this.opts.pollInitialMs;
      this.clock.clearTimeout(t.timer); // a poll armed for this task must not go out during the wait
      t.timer = this.clock.setTimeout(() => {
        t.timer = undefined;
        t.phase = "queued";
        this.queue.unshift(t.client, t);
        this.requestPump();
      }, delay);
      return;
    }
    this.settle(t, "failed", errors);
  }

  /**
   * getResponse said Runware does not know the task. Found by the chaos test: a poll and a
   * resubmission can cross, so a "not found" may be stale.
   */
  private onNotFound(t: TaskRecord, errors: RunwareErrorObject[]): void {
    if (t.phase === "sent") return; // answers a poll sent before our resubmission, which is under way
    if (t.acked) {
      // Runware had it (acknowledged or reported processing) and has forgotten it: its results
      // expired. Resubmitting would run and bill it again, so we say what we know instead.
      if (t.async) this.settle(t, "failed", errors);
      else
        this.settle(t, "in-doubt", [
          ...errors,
          inDoubt(t, "Runware accepted the task but no longer knows it; its results could not be recovered"),
        ]);
      return;
    }
    // Never acknowledged and unknown: our submission was lost on the way, so submitting it (same
    // UUID) cannot run it twice.
    if (t.recoveryResends < this.opts.maxRecoveryResends) {
      t.recoveryResends++;
      this.clock.clearTimeout(t.timer);
      t.timer = undefined;
      t.phase = "sent";
      this.owe(t, "submit");
      return;
    }
    this.settle(t, "in-doubt", [
      ...errors,
      inDoubt(t, "Runware does not know the task after repeated recovery attempts; it may not have run"),
    ]);
  }

  // --- polling -----------------------------------------------------------------------------------

  private startPolling(t: TaskRecord, delayMs: number): void {
    t.phase = "polling";
    t.pollDelayMs = this.opts.pollInitialMs;
    this.armPoll(t, delayMs);
  }

  /** The next getResponse after the current delay, growing ×pollFactor up to pollMaxMs. */
  private schedulePoll(t: TaskRecord): void {
    t.phase = "polling";
    this.armPoll(t, t.pollDelayMs);
    t.pollDelayMs = Math.min(this.opts.pollMaxMs, t.pollDelayMs * this.opts.pollFactor);
  }

  private armPoll(t: TaskRecord, delayMs: number): void {
    this.clock.clearTimeout(t.timer);
    t.timer = this.clock.setTimeout(() => {
      t.timer = undefined;
      if (!t.outcome) this.owe(t, "poll");
    }, delayMs);
  }

  // --- link events -------------------------------------------------------------------------------

  private onDown(epoch: number): void {
    for (const t of this.pending.values()) {
      if (t.phase !== "queued" && t.phase !== "retry-wait" && t.sentEpoch <= epoch) t.lostContact = true;
    }
    // Owed frames are rebuilt on ready from each task's phase; nothing half-written survives.
    this.outbox = [];
    this.awaitingWrite = false;
  }

  private onReady(info: ReadyInfo): void {
    this.log.info({ sessionUUID: info.sessionUUID, resumed: info.resumed }, "upstream ready");
    for (const t of this.pending.values()) {
      if (t.phase === "queued" || t.phase === "retry-wait" || t.sentEpoch >= info.epoch) continue;
      if (t.phase === "polling") {
        // An async task (or one already in recovery): its state is keyed by UUID across connections.
        this.armPoll(t, 0);
      } else if (info.resumed) {
        // Runware replays what it buffered for this session; poll whatever is still missing after a grace.
        this.startPolling(t, this.opts.recoveryGraceMs);
      } else {
        // A fresh session: the buffer is gone. Submit again under the SAME UUID; a conflict means
        // Runware has it, and we poll instead.
        t.recoveryResends++;
        this.clock.clearTimeout(t.timer);
        t.timer = undefined;
        this.owe(t, "submit");
      }
    }
    this.requestPump();
  }

  private onAuthFailed(error: RunwareErrorObject): void {
    this.authFailure = { code: error.code, message: error.message };
    for (const t of [...this.pending.values()]) {
      this.settle(t, "failed", [{ ...this.authFailure, taskUUID: t.taskUUID, taskType: t.taskType }]);
    }
  }

  private onDeadline(t: TaskRecord): void {
    if (t.outcome) return;
    const secs = this.opts.taskTimeoutMs;
    if (t.lostContact) {
      this.settle(t, "in-doubt", [
        inDoubt(t, `the upstream link was lost after the task was sent and it could not be recovered within ${secs} ms`),
      ]);
      return;
    }
    this.settle(t, "failed", [fill(t, { code: TASK_TIMEOUT_CODE, message: `no complete result within the task timeout (${secs} ms)` })]);
  }

  // --- the one exit ------------------------------------------------------------------------------

  private settle(t: TaskRecord, state: TaskOutcome["state"], errors: RunwareErrorObject[] = []): void {
    if (t.outcome) return;
    this.clock.clearTimeout(t.timer);
    t.timer = undefined;
    this.deadlines.remove(t);
    if (t.phase === "queued") this.queue.remove(t.client, t);
    this.releaseSlot(t);
    t.phase = "settled";
    t.errors.push(...errors);
    const outcome: TaskOutcome = { taskUUID: t.taskUUID, taskType: t.taskType, state, data: t.data, errors: t.errors };
    t.outcome = outcome;
    this.pending.delete(t.taskUUID);
    if (state === "done") this.completed++;
    else this.failed++;
    // Guarded: this runs once per task, and the object would be built even with debug off.
    if (this.log.isLevelEnabled("debug"))
      this.log.debug({ taskUUID: t.taskUUID, state, items: t.data.length, errors: t.errors.length }, "task settled");
    this.notify(t, { type: "final", outcome });
    t.listeners = undefined;
    t.resolve(outcome);
    this.emit("settled", outcome);
    if (this.pending.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.requestPump();
  }

  private releaseSlot(t: TaskRecord): void {
    if (!t.holdsSlot) return;
    t.holdsSlot = false;
    this.inFlight--;
  }

  private notify(t: TaskRecord, ev: TaskEvent): void {
    if (!t.listeners) return;
    for (const l of t.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.log.error({ err, taskUUID: t.taskUUID }, "task listener threw");
      }
    }
  }

  private handleOf(t: TaskRecord): TaskHandle {
    return {
      taskUUID: t.taskUUID,
      taskType: t.taskType,
      done: t.done,
      subscribe: (listener) => {
        if (t.outcome) {
          const outcome = t.outcome;
          queueMicrotask(() => listener({ type: "final", outcome }));
          return () => {};
        }
        (t.listeners ??= new Set()).add(listener);
        return () => t.listeners?.delete(listener);
      },
      snapshot: () => snapshotOf(t),
    };
  }
}
