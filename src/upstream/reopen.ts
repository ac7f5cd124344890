/**
 * The record of an async task the daemon asks Runware about again (engine.reopen): Runware
 * accepted it once, so it is never submitted again, only polled; the results already had are kept,
 * so a poll repeating them does not deliver them twice (docs/local-api.md §2.8).
 */
import { resultIdentity } from "../protocol/results.js";
import { prepareTask, type PrepareLimits } from "./prepare.js";
import { newRecord, type TaskOutcome, type TaskRecord } from "./task.js";

export function reopenedRecord(
  outcome: TaskOutcome,
  limits: PrepareLimits,
  firstPollMs: (frameAsync: boolean, taskType: string) => number,
): TaskRecord {
  const p = prepareTask({ taskType: outcome.taskType, taskUUID: outcome.taskUUID, deliveryMethod: "async" }, limits);
  const t = newRecord(p, "reopened", { kind: "count", count: outcome.expected ?? 1 }, firstPollMs(true, p.taskType));
  t.acked = t.reached = t.written = true;
  t.submits = 1;
  for (const item of outcome.data) {
    t.data.push(item);
    const key = resultIdentity(item);
    if (key !== undefined) (t.seen ??= new Set()).add(key);
  }
  return t;
}
