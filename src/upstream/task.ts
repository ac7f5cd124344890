/**
 * One task's record while the engine owns it, and the shapes callers see. Plain typed data: the
 * engine (engine.ts) is the single owner that changes it, and `settle()` there is its only exit.
 */
import type { RunwareErrorObject } from "../errors.js";
import type { DataItem, Task } from "../protocol/schemas.js";
import type { Expectation } from "../protocol/expect.js";
import type { Timer } from "../util/clock.js";
import type { DeadlineNode } from "./deadlines.js";

/** Contract §2: the state of a task as `GET /v1/tasks/{uuid}` reports it. */
export type TaskState = "queued" | "sent" | "done" | "failed" | "in-doubt";

/** Where a live task is in its life; `TaskState` is derived from it. */
export type Phase =
  | "queued" // waiting for a slot
  | "sent" // written upstream, results due
  | "polling" // results are fetched with getResponse (async task, or recovery)
  | "retry-wait" // a transient error; resubmitted under the same UUID after a delay
  | "settled";

export interface TaskOutcome {
  taskUUID: string;
  taskType: string;
  state: Exclude<TaskState, "queued" | "sent">;
  data: DataItem[];
  errors: RunwareErrorObject[];
}

export type TaskEvent =
  | { type: "ack"; item: DataItem }
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
}

export interface TaskRecord extends DeadlineNode {
  readonly taskUUID: string;
  readonly taskType: string;
  readonly frame: Task;
  readonly client: string;
  readonly expect: Expectation;
  /** `deliveryMethod: "async"`: acknowledged first, then fetched with getResponse. */
  readonly async: boolean;
  /** A caller's own `getResponse`: complete with the first reply, passed through as it is. */
  readonly passthrough: boolean;
  phase: Phase;
  outcome: TaskOutcome | undefined;
  readonly data: DataItem[];
  readonly errors: RunwareErrorObject[];
  /** Result identities seen, so replays and repeated polls never deliver an item twice (made on first use). */
  seen: Set<string> | undefined;
  /** How often the task itself (not getResponse) was written upstream. */
  submits: number;
  /** Transient-error retries used. */
  retries: number;
  /** Recovery resends after a lost session or a `taskNotFound` during recovery. */
  recoveryResends: number;
  /** The connection epoch the task's last frame was written on. */
  sentEpoch: number;
  /** Set when the link dropped after a send and nothing has been heard since. */
  lostContact: boolean;
  /** True once the server acknowledged an async task (or answered conflictTaskUUID). */
  acked: boolean;
  /** Callers were told the async task was acknowledged (once per task, across retries). */
  ackAnnounced: boolean;
  /** The task counts against maxInFlight: taken when it leaves the queue, given back once. */
  holdsSlot: boolean;
  pollDelayMs: number;
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
}

/** Fields that identify one generated result across replays and polls (sdk-js dedupes the same way). */
const IDENTITY_FIELDS = ["imageUUID", "videoUUID", "mediaUUID", "audioUUID", "guideImageUUID", "maskImageUUID"] as const;

export function resultIdentity(item: DataItem): string | undefined {
  for (const f of IDENTITY_FIELDS) {
    const v = item[f];
    if (typeof v === "string") return `${f}:${v}`;
  }
  return undefined;
}

export function stateOf(t: TaskRecord): TaskState {
  if (t.outcome) return t.outcome.state;
  return t.phase === "queued" || (t.phase === "retry-wait" && t.submits === 0) ? "queued" : "sent";
}

export function snapshotOf(t: TaskRecord): TaskSnapshot {
  const snap: TaskSnapshot = { taskUUID: t.taskUUID, taskType: t.taskType, state: stateOf(t), data: [...t.data], errors: [...t.errors] };
  if (t.expect.kind === "count") snap.expected = t.expect.count;
  return snap;
}
