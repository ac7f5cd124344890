/**
 * One task's record while the engine owns it, and the shapes callers see. Plain typed data: the
 * engine (engine.ts) is the single owner that changes it, and `settle()` there is its only exit.
 */
import { kindOf } from "../protocol/task-kinds.js";
import type { RunwareErrorObject } from "../errors.js";
import type { DataItem } from "../protocol/schemas.js";
import type { Expectation } from "../protocol/expect.js";
import type { Timer } from "../util/clock.js";
import type { Logger } from "../log.js";
import type { DeadlineNode } from "./deadlines.js";
import type { PollNode } from "./poll-schedule.js";
import type { OutItem } from "./outbox.js";
import type { PreparedTask } from "./prepare.js";
import { STATE_OF, type Phase, type TaskState } from "./lifecycle.js";

export type { TaskState, Phase } from "./lifecycle.js";

export interface TaskOutcome {
  taskUUID: string;
  taskType: string;
  state: Exclude<TaskState, "queued" | "sent">;
  data: DataItem[];
  errors: RunwareErrorObject[];
  /**
   * Set when the daemon stopped waiting for an async task Runware had accepted (its async timeout,
   * a stop): Runware may still finish it, so a later lookup asks Runware again (engine.reopen).
   */
  askAgain?: true;
  /** With `askAgain`: result items the task yields when complete. */
  expected?: number;
  /** The caller did not ask for `includeCost`: its answers leave `cost` out (protocol/cost.ts). */
  costHidden?: true;
  /** Who asked (issue 16); set on every outcome the engine makes. */
  label?: string;
}

export type TaskEvent =
  | { type: "ack"; item: DataItem }
  /** A new, higher `progress` (0-100) of an async task, as Runware's `processing` item. */
  | { type: "progress"; item: DataItem }
  | { type: "data"; item: DataItem }
  | { type: "error"; error: RunwareErrorObject; retrying: boolean }
  | { type: "final"; outcome: TaskOutcome };

export interface TaskSnapshot {
  taskUUID: string;
  taskType: string;
  state: TaskState;
  data: DataItem[];
  errors: RunwareErrorObject[];
  /** Result items the task yields when complete, where that is a count (protocol/expect.ts). */
  expected?: number;
  /** The last `progress` (0-100) Runware reported for an async task. */
  progress?: number;
  /** The caller did not ask for `includeCost`: its answers leave `cost` out (protocol/cost.ts). */
  costHidden?: true;
}

export interface TaskRecord extends DeadlineNode, PollNode {
  readonly taskUUID: string;
  readonly taskType: string;
  /** The task as sent upstream, encoded once at submit (prepare.ts). */
  readonly text: string;
  /** `text`'s size in bytes: what the queue's byte budget counts. */
  readonly bytes: number;
  readonly client: string;
  /** Who asked, as the caller named itself (issue 16; local/label.ts). */
  readonly label: string;
  readonly costHidden: boolean;
  readonly expect: Expectation;
  /** `deliveryMethod: "async"`: acknowledged first, then fetched with getResponse. */
  readonly async: boolean;
  /** The caller asked for async itself (not the daemon by the task's kind): it is told of the ack. */
  readonly askedAsync: boolean;
  /** A caller's own `getResponse`: complete with the first reply, passed through as it is. */
  readonly passthrough: boolean;
  /** Its kind is reported only on the connection that sent it, never by getResponse (task-kinds.ts `streamedOnly`). */
  readonly streamedOnly: boolean;
  /** Bounded by asyncTimeoutMs from its submission, not the task timeout (task-kinds.ts `long`). */
  readonly long: boolean;
  /** Changed only by the engine's `moveTo()`, which checks lifecycle.ts. */
  phase: Phase;
  /** Counts phase changes: a frame owed in one phase is not sent once the task has moved on. */
  moves: number;
  outcome: TaskOutcome | undefined;
  readonly data: DataItem[];
  readonly errors: RunwareErrorObject[];
  /** Result identities seen, so replays and repeated polls never deliver an item twice (made on first use). */
  seen: Set<string> | undefined;
  /** How often the task itself (not getResponse) was written upstream. */
  submits: number;
  /** Transient-error retries used. */
  retries: number;
  /** Resends after getResponse said "not found" for a task Runware never acknowledged. */
  notFoundResends: number;
  /** The connection epoch the task's last frame was written on. */
  sentEpoch: number;
  /** Something was heard about the task since its last submission was written. */
  replied: boolean;
  /** The frame holding its last submission was handed to the socket whole. */
  written: boolean;
  /** Known not to have reached Runware on the link that dropped: resent at once, never in doubt. */
  undelivered: boolean;
  /** Some submission may have reached Runware (decisions.mayHaveRun): never reset. */
  reached: boolean;
  /** Links closed with 1009 (message too big) while its submission was unanswered on them. */
  tooBigStrikes: number;
  /** Set when the link dropped after a send and nothing has been heard since. */
  lostContact: boolean;
  /** True once the server acknowledged an async task (or answered conflictTaskUUID). */
  acked: boolean;
  /** Callers were told the async task was acknowledged (once per task, across retries). */
  ackAnnounced: boolean;
  /** The task counts against maxInFlight: taken when it leaves the queue, given back once (an async task: at its ack). */
  holdsSlot: boolean;
  /** An async task counts against maxAsync: taken when it leaves the queue, given back at its end or a retry. */
  holdsAsync: boolean;
  /** Its deadline is the async one (asyncTimeoutMs from the ack), in the engine's second DeadlineList. */
  asyncDeadline: boolean;
  /** The highest `progress` Runware reported (async tasks). */
  progress: number | undefined;
  /** The first poll's nominal delay (per task kind, protocol/task-kinds.ts); a retry starts over from it. */
  readonly firstPollMs: number;
  /** The nominal delay of the next poll (poll-schedule.ts). */
  pollDelayMs: number;
  /** Resolved at the next reply about the task, or at its end (a lookup that asks Runware again). */
  replyWaiters: Array<() => void> | undefined;
  /** The one pending retry/poll/grace timer. (The deadline is in the engine's DeadlineList.) */
  timer: Timer | undefined;
  /** Subscribers (made on first use: most tasks have one or none). */
  listeners: Set<(ev: TaskEvent) => void> | undefined;
  readonly resolve: (o: TaskOutcome) => void;
  readonly done: Promise<TaskOutcome>;
}

/** What a caller holds after `submit()`. */
export interface TaskHandle {
  readonly taskUUID: string;
  readonly taskType: string;
  /** Resolves exactly once, with results or errors; never rejects. */
  readonly done: Promise<TaskOutcome>;
  /** Events from now on; returns the unsubscribe function. */
  subscribe(listener: (ev: TaskEvent) => void): () => void;
  snapshot(): TaskSnapshot;
  /** Resolves at the next reply about the task from Runware, or at its end. */
  nextReply(): Promise<void>;
}

export function newRecord(
  p: PreparedTask,
  who: { client: string; label: string },
  expect: Expectation,
  firstPollMs: number,
  costHidden = p.costHidden,
): TaskRecord {
  const frame = p.frame;
  const async = frame["deliveryMethod"] === "async";
  const kind = kindOf(frame.taskType);
  let resolve!: (o: TaskOutcome) => void;
  const done = new Promise<TaskOutcome>((r) => (resolve = r));
  return {
    taskUUID: frame.taskUUID,
    taskType: frame.taskType,
    text: p.text,
    bytes: p.bytes,
    client: who.client,
    label: who.label,
    costHidden,
    expect,
    async,
    askedAsync: async && !p.asyncByDefault,
    passthrough: frame.taskType === "getResponse",
    streamedOnly: kind?.streamedOnly === true,
    long: kind?.long === true,
    phase: "queued",
    moves: 0,
    outcome: undefined,
    data: [],
    errors: [],
    seen: undefined,
    submits: 0,
    retries: 0,
    notFoundResends: 0,
    sentEpoch: -1,
    replied: false,
    written: false,
    undelivered: false,
    reached: false,
    tooBigStrikes: 0,
    lostContact: false,
    acked: false,
    ackAnnounced: false,
    holdsSlot: false,
    holdsAsync: false,
    asyncDeadline: false,
    progress: undefined,
    firstPollMs,
    pollDelayMs: firstPollMs,
    pollGen: 0,
    pollScheduled: false,
    replyWaiters: undefined,
    timer: undefined,
    listeners: undefined,
    deadlineAt: 0,
    dlPrev: undefined,
    dlNext: undefined,
    dlLinked: false,
    resolve,
    done,
  };
}

/** The task itself goes out (again): nothing heard of this attempt yet, not known to be written. */
export function submission(t: TaskRecord): OutItem {
  t.submits++;
  t.replied = false;
  t.written = false;
  t.undelivered = false;
  const attempt = t.submits;
  return {
    text: t.text,
    written: () => {
      if (t.submits === attempt) t.written = true;
    },
  };
}

/** A getResponse for the task (a poll). */
export function pollFrame(t: TaskRecord): OutItem {
  return { text: `{"taskType":"getResponse","taskUUID":${JSON.stringify(t.taskUUID)}}` };
}

export function stateOf(t: TaskRecord): TaskState {
  return STATE_OF[t.phase];
}

export function snapshotOf(t: TaskRecord): TaskSnapshot {
  const snap: TaskSnapshot = { taskUUID: t.taskUUID, taskType: t.taskType, state: stateOf(t), data: [...t.data], errors: [...t.errors] };
  if (t.expect.kind === "count") snap.expected = t.expect.count;
  if (t.progress !== undefined && !t.outcome) snap.progress = t.progress;
  if (t.costHidden) snap.costHidden = true;
  return snap;
}

/** Wake whoever waits for the next reply about the task. */
export function replied(t: TaskRecord): void {
  const waiters = t.replyWaiters;
  if (!waiters) return;
  t.replyWaiters = undefined;
  for (const w of waiters) w();
}

/** Tell a task's subscribers; one that throws is logged and does not stop the others. */
export function notify(t: TaskRecord, ev: TaskEvent, log: Logger): void {
  if (!t.listeners) return;
  for (const l of t.listeners) {
    try {
      l(ev);
    } catch (err) {
      log.error({ err, taskUUID: t.taskUUID }, "task listener threw");
    }
  }
}

export function handleOf(t: TaskRecord): TaskHandle {
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
    nextReply: () => (t.outcome ? Promise.resolve() : new Promise<void>((r) => (t.replyWaiters ??= []).push(r))),
  };
}
