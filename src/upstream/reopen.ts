/**
 * Asking Runware again about an async task the daemon stopped waiting for (docs/local-api.md §2.8):
 * its final outcome says so (`askAgain`: Runware accepted it and keeps its results for getResponse),
 * and a later lookup makes a record of it again (engine.reopen). Runware accepted it once, so it is
 * never submitted again, only polled; the results already had are kept, so a poll repeating them
 * does not deliver them twice.
 */
import { resultIdentity } from "../protocol/results.js";
import type { FinalPhase } from "./lifecycle.js";
import { firstPoll, type PollPolicy } from "./poll-schedule.js";
import { prepareTask, type PrepareLimits } from "./prepare.js";
import { UNLABELLED } from "./options.js";
import { newRecord, type TaskOutcome, type TaskRecord } from "./task.js";

/** A task's final outcome; an acknowledged async task ending in doubt may be asked about again. */
export function finalOutcome(t: TaskRecord, state: FinalPhase): TaskOutcome {
  const outcome: TaskOutcome = { taskUUID: t.taskUUID, taskType: t.taskType, state, data: t.data, errors: t.errors, label: t.label };
  if (t.costHidden) outcome.costHidden = true;
  if (state === "in-doubt" && t.async && t.acked) {
    outcome.askAgain = true;
    if (t.expect.kind === "count") outcome.expected = t.expect.count;
  }
  return outcome;
}

export function reopenedRecord(outcome: TaskOutcome, limits: PrepareLimits & PollPolicy): TaskRecord {
  const p = prepareTask({ taskType: outcome.taskType, taskUUID: outcome.taskUUID, deliveryMethod: "async" }, limits);
  const t = newRecord(
    p,
    { client: "reopened", label: outcome.label ?? UNLABELLED },
    { kind: "count", count: outcome.expected ?? 1 },
    firstPoll(true, p.taskType, limits),
    outcome.costHidden === true,
  );
  t.acked = t.reached = t.written = true;
  t.submits = 1;
  for (const item of outcome.data) {
    t.data.push(item);
    const key = resultIdentity(item);
    if (key !== undefined) (t.seen ??= new Set()).add(key);
  }
  return t;
}
