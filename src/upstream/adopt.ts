/**
 * Taking up again a task a previous daemon process accepted and did not finish (the journal,
 * docs/reliability.md "The journal"; issue 15). Never under a new UUID, and never sent again when
 * Runware is known to hold it:
 * - acknowledged async (it was being polled): only polled, as a task asked about again (reopen.ts);
 * - sent, not known to be final: taken up as a task whose link dropped after the send. The first
 *   link then decides as after any drop (decisions.onReady): the journaled session resumed, the
 *   replay and then getResponse; a fresh session, resent under the same UUID, and
 *   `conflictTaskUUID` (Runware has it) switches it to polling;
 * - never sent: queued again, as it was.
 * Results it had already received are kept, so a replay or a poll repeating them adds nothing.
 */
import { resultIdentity } from "../protocol/results.js";
import { expectedResults } from "../protocol/expect.js";
import type { DataItem } from "../protocol/schemas.js";
import type { Phase } from "./lifecycle.js";
import { firstPoll, type PollPolicy } from "./poll-schedule.js";
import { prepareTask, type PrepareLimits } from "./prepare.js";
import { newRecord, type TaskRecord } from "./task.js";

/** A journaled task that was not final when its daemon stopped. */
export interface UnfinishedTask {
  readonly taskUUID: string;
  readonly taskType: string;
  /** The task as it was sent (or queued to be). */
  readonly text: string;
  readonly client: string;
  readonly label: string;
  /** The caller did not ask for `includeCost` (its text asks: the daemon added it). */
  readonly costHidden: boolean;
  /** Its last phase. */
  readonly phase: Phase;
  /** It was written upstream at least once. */
  readonly sent: boolean;
  /** Runware acknowledged it (async). */
  readonly acked: boolean;
  /** Result items already received. */
  readonly data: readonly DataItem[];
  /** When the first daemon accepted it (ms since the epoch), for the history's durations. */
  readonly acceptedAt?: number;
}

export type AdoptPlan = "poll" | "recover" | "queue";

export function adoptPlan(u: Pick<UnfinishedTask, "sent" | "acked">, async: boolean): AdoptPlan {
  if (async && u.acked) return "poll";
  return u.sent ? "recover" : "queue";
}

/** The record of an unfinished task, and how the engine takes it up. Throws if its text is no longer a valid task. */
export function adoptedRecord(u: UnfinishedTask, limits: PrepareLimits & PollPolicy): { t: TaskRecord; plan: AdoptPlan } {
  const frame = JSON.parse(u.text) as Record<string, unknown> & { taskType: string; taskUUID: string };
  if (frame.taskUUID !== u.taskUUID) throw new Error(`journaled task ${u.taskUUID} holds another taskUUID`);
  const p = prepareTask(frame, limits);
  const async = frame["deliveryMethod"] === "async";
  const t = newRecord(p, u, expectedResults(p.frame), firstPoll(async, p.taskType, limits), u.costHidden);
  const plan = adoptPlan(u, async);
  if (plan !== "queue") {
    // It may have run: from now on, not knowing means in doubt, never "failed, not run".
    t.submits = 1;
    t.written = t.reached = true;
    t.lostContact = plan === "recover";
    t.acked = plan === "poll";
  }
  for (const item of u.data) {
    t.data.push(item);
    const key = resultIdentity(item);
    if (key !== undefined) (t.seen ??= new Set()).add(key);
  }
  return { t, plan };
}
