/**
 * What Runware's replies mean for a task, as pure functions over a task record and a slice of a
 * frame (docs/protocol.md §4, §5). The engine decides what to do about them.
 */
import type { RunwareErrorObject } from "../errors.js";
import type { Slice } from "../protocol/codec.js";
import { PENDING_STATUSES } from "../protocol/statuses.js";
import { TASK_IN_DOUBT_CODE } from "./errors.js";
import type { TaskRecord } from "./task.js";

/** getResponse's answers for a UUID Runware does not know (docs/protocol.md §4.3: the exact code is unknown). */
export const NOT_FOUND_CODES = new Set(["taskNotFound", "taskFailedOrNotFound", "taskExpired"]);
/** getResponse marks its answers with a status on every item and error (docs/protocol.md §4.2). */
const POLL_STATUSES = new Set([...PENDING_STATUSES, "success", "error"]);

/**
 * Does this slice answer a getResponse (rather than the submission)? An async task's first
 * `processing` item is its acknowledgement, not a poll answer.
 */
export function isPollAnswer(t: TaskRecord, slice: Slice): boolean {
  if (slice.errors.some((e) => e["status"] === "error") || slice.items.some((i) => i["status"] === "error")) return true;
  if (t.async && !t.acked) return false;
  return slice.items.some((i) => typeof i["status"] === "string" && POLL_STATUSES.has(i["status"]));
}

/** Server errors often omit taskType (rw-ts errors.ts); fill both from our own record. */
export function fill(t: TaskRecord, e: RunwareErrorObject): RunwareErrorObject {
  return { ...e, taskUUID: t.taskUUID, taskType: e.taskType ?? t.taskType };
}

export function inDoubt(t: TaskRecord, message: string): RunwareErrorObject {
  return { code: TASK_IN_DOUBT_CODE, message, taskUUID: t.taskUUID, taskType: t.taskType };
}
