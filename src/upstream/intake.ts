/**
 * One task's share of an upstream frame, applied to its record: results kept (each once), the
 * async acknowledgement announced once, and what remains (errors, completion, the next poll)
 * handed back to the engine, which alone changes phases (lifecycle.ts). Runware facts:
 * docs/protocol.md §3 (result counting), §4 (ack, getResponse items and statuses).
 */
import type { RunwareErrorObject } from "../errors.js";
import type { Logger } from "../log.js";
import type { Slice, SplitFrame } from "../protocol/codec.js";
import { endOf, isComplete } from "../protocol/expect.js";
import { isPendingStatus } from "../protocol/statuses.js";
import type { DataItem } from "../protocol/schemas.js";
import type { FinalPhase } from "./lifecycle.js";
import { fill, isPollAnswer } from "./replies.js";
import { isAsyncAcknowledgement, resultIdentity } from "../protocol/results.js";
import { notify, replied, type TaskRecord } from "./task.js";
import type { EveryInterval } from "../util/ratelimit.js";

/** What the engine does for intake: each call goes through its phase table. */
export interface SliceActions {
  settle(t: TaskRecord, state: FinalPhase, errors: RunwareErrorObject[], reason: string): void;
  errors(t: TaskRecord, errors: RunwareErrorObject[]): void;
  /** Fetch again with getResponse after the task's current poll delay. */
  poll(t: TaskRecord): void;
  /** Runware has the async task: its slot goes, its async deadline starts (engine). */
  acked(t: TaskRecord): void;
  readonly log: Logger;
  /** One warning per interval for errors that name no task, with a count of the rest. */
  readonly orphanLog: EveryInterval;
}

/** Each task's slice of a frame to its pending task; a reply that throws ends only its own task. Errors naming no task are logged. */
export function applyFrame(frame: SplitFrame, pending: ReadonlyMap<string, TaskRecord>, act: SliceActions): void {
  for (const [uuid, slice] of frame.tasks) {
    const t = pending.get(uuid);
    if (!t) {
      act.log.debug({ taskUUID: uuid }, "reply for a task that is not pending (late or foreign); dropped");
      continue;
    }
    t.lostContact = false;
    t.replied = true;
    t.reached = true;
    try {
      applySlice(t, slice, act);
    } catch (err) {
      act.log.error({ err, taskUUID: uuid }, "handling a reply failed");
      const error = fill(t, { code: "internalError", message: "the daemon failed to handle Runware's reply" });
      act.settle(t, "failed", [error], "internal error");
    }
    replied(t);
  }
  if (frame.orphanErrors.length === 0) return;
  const held = act.orphanLog.hit();
  if (held !== undefined) act.log.warn({ errors: frame.orphanErrors.slice(0, 5), heldBack: held }, "upstream errors without a taskUUID");
}

export function applySlice(t: TaskRecord, slice: Slice, act: SliceActions): void {
  if (t.passthrough) {
    // A caller's own getResponse: the reply is the answer, whatever it says.
    for (const item of slice.items) addItem(t, item, false, act.log);
    if (slice.errors.length > 0)
      act.settle(
        t,
        "failed",
        slice.errors.map((e) => fill(t, e)),
        "getResponse answered with errors",
      );
    else act.settle(t, "done", [], "getResponse answered");
    return;
  }
  // Nothing of ours is outstanding (queued, retry-wait), or this answers a poll although we are not
  // polling (so it was sent before a resubmission or a recovery and describes an attempt that is
  // over): keep finished results, act on nothing else. Acting on it queued tasks twice or retried
  // errors of the last attempt, and the in-flight count drifted.
  if (t.phase === "queued" || t.phase === "retry-wait" || (t.phase !== "polling" && isPollAnswer(t, slice))) {
    keepFinishedResults(t, slice, act);
    return;
  }
  const errors = slice.errors.map((e) => fill(t, e));
  let processing = false;
  /** The lowest `progress` among this reply's processing items: the task is as far as its slowest result. */
  let progress: number | undefined;
  slice.items.forEach((item, index) => {
    const status = item["status"];
    if (t.expect.kind === "ack" && t.data.length === 0 && status !== "error" && isAsyncAcknowledgement(item)) {
      // With a webhookURL the acknowledgement is the answer (docs/protocol.md §3.3): its one item,
      // announced as a result, not as an ack followed by the same item.
      t.ackAnnounced = true;
      if (t.async) markAcked(t, act, item);
      addItem(t, item, false, act.log);
    } else if (status === "error") {
      // The item-level failure form of getResponse.
      const e = item["error"] as Partial<RunwareErrorObject> | undefined;
      errors.push(fill(t, { code: e?.code ?? "taskFailed", message: e?.message ?? "generation failed" }));
    } else if (isPendingStatus(status)) {
      processing = true;
      const p = item["progress"];
      if (typeof p === "number" && Number.isFinite(p)) progress = Math.min(progress ?? 100, Math.max(0, p));
      markAcked(t, act);
    } else if (t.async && !t.acked && isAsyncAcknowledgement(item)) {
      processing = true;
      markAcked(t, act, item); // the async acknowledgement: {taskType, taskUUID}
    } else {
      if (t.async) markAcked(t, act);
      addItem(t, item, t.phase === "polling" ? `poll#${index}` : undefined, act.log);
    }
  });
  if (errors.length > 0) {
    act.errors(t, errors);
    return;
  }
  if (progress !== undefined) reportProgress(t, progress, act.log);
  const end = endOf(t.expect, t.data);
  if (end?.state === "done") {
    act.settle(t, "done", [], "every expected result arrived");
    return;
  }
  if (end) {
    act.settle(t, "failed", [fill(t, { code: end.code, message: end.message })], "it ended in a failure status");
    return;
  }
  if (processing || t.phase === "polling") act.poll(t);
}

/** Runware has the task (it acknowledged it or reports it processing). */
function markAcked(t: TaskRecord, act: SliceActions, item?: DataItem): void {
  t.acked = true;
  act.acked(t);
  announceAck(t, act.log, item);
}

/**
 * Each new, higher `progress` goes to the task's callers once, as Runware's `processing` item
 * (docs/protocol.md §4.2): a poll repeating it, or a lower one (another item, a replay), is not news.
 */
function reportProgress(t: TaskRecord, progress: number, log: Logger): void {
  const p = Math.round(progress);
  if (t.progress !== undefined && p <= t.progress) return;
  t.progress = p;
  notify(t, { type: "progress", item: { taskType: t.taskType, taskUUID: t.taskUUID, status: "processing", progress: p } }, log);
}

/**
 * Callers of an async task are told once that Runware has it, and before any of its results,
 * whichever way we learned it: the acknowledgement itself may have been lost with a link, and a
 * local WebSocket client waits for it before it polls (docs/protocol.md §4.1, docs/local-api.md §2.6).
 */
export function announceAck(t: TaskRecord, log: Logger, item?: DataItem): void {
  // Only a caller who asked for async is told: to one who did not, the task looks sync (docs/local-api.md §2.8).
  if (!t.askedAsync || t.ackAnnounced) return;
  t.ackAnnounced = true;
  notify(t, { type: "ack", item: item ?? { taskType: t.taskType, taskUUID: t.taskUUID } }, log);
}

/** From an answer about an attempt that is over: keep what finished, act on nothing else. */
function keepFinishedResults(t: TaskRecord, slice: Slice, act: SliceActions): void {
  for (const item of slice.items) {
    const status = item["status"];
    if (status === "success" || (status === undefined && resultIdentity(item) !== undefined)) addItem(t, item, undefined, act.log);
  }
  if (isComplete(t.expect, t.data)) act.settle(t, "done", [], "an earlier attempt's results completed it");
}

/** Keep a result once: replays and repeated polls carry the same item again. */
function addItem(t: TaskRecord, item: DataItem, fallbackKey: string | false | undefined, log: Logger): void {
  const key = resultIdentity(item) ?? (fallbackKey || undefined);
  if (key !== undefined) {
    t.seen ??= new Set();
    if (t.seen.has(key)) return;
    t.seen.add(key);
  }
  announceAck(t, log);
  t.data.push(item);
  notify(t, { type: "data", item }, log);
}
