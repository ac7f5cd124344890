/**
 * What the engine does about an error, a "not found", a new link and a deadline, as pure functions
 * of a task's facts (no I/O, no clock; the random source is passed in). `replies.ts` says what a
 * reply means; these say what to do; the engine does it. Rules and their Runware facts:
 * docs/protocol.md §5 (errors, conflictTaskUUID), §4 (getResponse, not found), §2 (resume).
 */
import type { RunwareErrorObject } from "../errors.js";
import { isTransientCode } from "../protocol/codes.js";
import { backoffDelay, type RandomSource } from "./backoff.js";
import { NOT_FOUND_CODES } from "./replies.js";
import { TASK_ABORTED_CODE, TASK_IN_DOUBT_CODE, TASK_TIMEOUT_CODE } from "./errors.js";
import type { Phase } from "./lifecycle.js";

export interface RetryPolicy {
  maxTaskRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export type ErrorDecision =
  /** conflictTaskUUID: Runware has this UUID (our earlier send, or an earlier daemon's); fetch its results. */
  | { do: "poll" }
  /** getResponse does not know the task: see `onNotFound`. */
  | { do: "not-found" }
  /** Every error is transient and retries are left: again under the same UUID after `delayMs`. */
  | { do: "retry"; delayMs: number }
  /** conflictTaskUUID for a kind getResponse does not answer: Runware has it, its reports went to a connection that is gone. */
  | { do: "in-doubt"; message: string }
  | { do: "fail" };

export function onErrors(
  errors: readonly RunwareErrorObject[],
  t: { retries: number; streamedOnly: boolean },
  policy: RetryPolicy,
  random: RandomSource,
): ErrorDecision {
  const retries = t.retries;
  const code = errors[0]?.code ?? "unknownError";
  if (code === "conflictTaskUUID" && t.streamedOnly) {
    return {
      do: "in-doubt",
      message:
        "Runware has this task (conflictTaskUUID) but reports it only on the connection that sent it, which is gone, and getResponse does not answer for it; look for its result (a modelUpload: modelSearch for its air)",
    };
  }
  if (code === "conflictTaskUUID") return { do: "poll" };
  if (NOT_FOUND_CODES.has(code)) return { do: "not-found" };
  if (retries < policy.maxTaskRetries && errors.every((e) => isTransientCode(e.code))) {
    const delayMs = backoffDelay(retries, { baseMs: policy.retryBaseMs, maxMs: policy.retryMaxMs, floorMs: 0, factor: 2 }, random);
    return { do: "retry", delayMs };
  }
  return { do: "fail" };
}

export type NotFoundDecision =
  /** Answers a poll sent before our resubmission, which is under way: stale. */
  | { do: "ignore" }
  /** An acknowledged async task Runware no longer knows: its results expired; it failed as Runware says. */
  | { do: "fail" }
  /** Runware had it and forgot it: resubmitting could run and bill it twice. */
  | { do: "in-doubt"; message: string }
  /** Never acknowledged and unknown: our send was lost, so the same UUID cannot run twice. */
  | { do: "resubmit" };

export function onNotFound(t: { phase: Phase; acked: boolean; async: boolean }): NotFoundDecision {
  if (t.phase === "sent") return { do: "ignore" };
  if (t.acked) {
    return t.async
      ? { do: "fail" }
      : { do: "in-doubt", message: "Runware accepted the task but no longer knows it; its results could not be recovered" };
  }
  return { do: "resubmit" };
}

export type ResubmitDecision = { do: "resubmit" } | { do: "in-doubt"; message: string };

/** Why a task goes upstream again under its own UUID. */
export type ResubmitCause =
  /** getResponse does not know a task Runware never acknowledged: our send was lost. */
  | "not-found"
  /** A fresh session: Runware's buffer is gone; it answers conflictTaskUUID if it has the task. */
  | "fresh-session"
  /** The last submission cannot have reached Runware (`undelivered`). */
  | "undelivered";

/**
 * One rule for every resubmission. Runware saying "not found" is evidence about the task, so
 * those resends are capped (past `maxRecoveryResends` the task is in doubt). A fresh session says
 * nothing about the task, and resending under the same UUID cannot run it twice (conflictTaskUUID),
 * so those are bounded by the task timeout alone: capping them turned tasks on a flapping link
 * into in-doubt ones.
 */
export function resubmit(cause: ResubmitCause, notFoundResends: number, maxRecoveryResends: number): ResubmitDecision {
  if (cause !== "not-found" || notFoundResends < maxRecoveryResends) return { do: "resubmit" };
  return { do: "in-doubt", message: "Runware does not know the task after repeated recovery attempts; it may not have run" };
}

/** WebSocket close code: the far end refused a message as too big (RFC 6455 §7.4.1). */
export const MESSAGE_TOO_BIG = 1009;

/**
 * Whether a task's last submission cannot have reached Runware when the link that carried it went
 * down: its frame was never handed to the socket whole, or the far end closed with 1009 (it read
 * a message and refused it) before saying anything about the task. Such a task is resent at once
 * and is never in doubt.
 */
export function undelivered(
  t: { phase: Phase; written: boolean; replied: boolean },
  closeCode: number | undefined,
): false | "not-written" | "too-big" {
  if (t.phase !== "sent" || t.replied) return false;
  if (!t.written) return "not-written";
  return closeCode === MESSAGE_TOO_BIG ? "too-big" : false;
}

/** A task whose frames the far end refused as too big this often fails (taskTooLarge) instead of looping. */
export const MAX_TOO_BIG_STRIKES = 3;

export type RecoveryDecision =
  /** Nothing of this task was outstanding on the link that went down. */
  | { do: "none" }
  /** Polling is keyed by taskUUID, not by connection: poll again at once. */
  | { do: "poll-now" }
  /** Resumed session: Runware replays its buffer; poll what is still missing after the grace. */
  | { do: "grace" }
  /** Resumed session, a kind getResponse does not answer (streamedOnly): the replay and the rest of its stream come; wait. */
  | { do: "wait" }
  /** Fresh session: the buffer is gone; submit again under the same UUID. */
  | { do: "resubmit" };

export function onReady(
  t: { phase: Phase; sentEpoch: number; undelivered: boolean; streamedOnly: boolean },
  link: { epoch: number; resumed: boolean },
): RecoveryDecision {
  if (t.phase === "queued" || t.phase === "retry-wait" || t.sentEpoch >= link.epoch) return { do: "none" };
  if (t.phase === "polling") return { do: "poll-now" };
  if (t.undelivered) return { do: "resubmit" };
  if (!link.resumed) return { do: "resubmit" };
  return t.streamedOnly ? { do: "wait" } : { do: "grace" };
}

export interface DeadlineDecision {
  state: "failed" | "in-doubt";
  code: typeof TASK_TIMEOUT_CODE | typeof TASK_IN_DOUBT_CODE;
  message: string;
}

/** At the task timeout: in doubt when the link was lost after the send and never heard back. */
/** What a task's record says about whether any of its submissions may have reached Runware. */
export interface DeliveryFacts {
  submits: number;
  /** Runware answered about it, or a link it went out on dropped with no sign it was not delivered. */
  reached: boolean;
  /** The last submission's frame was handed to the socket whole. */
  written: boolean;
  /** The last submission is known not to have reached Runware. */
  undelivered: boolean;
}

/** False only when no submission can have reached Runware: then the task was not run, for sure. */
export function mayHaveRun(t: DeliveryFacts): boolean {
  return t.reached || (t.submits > 0 && t.written && !t.undelivered);
}

export function onDeadline(t: DeliveryFacts & { lostContact: boolean }, timeoutMs: number): DeadlineDecision {
  if (!mayHaveRun(t) && t.submits > 0) {
    return {
      state: "failed",
      code: TASK_TIMEOUT_CODE,
      message: `the task could not be delivered to Runware within the task timeout (${timeoutMs} ms): the upstream link was down`,
    };
  }
  if (t.lostContact) {
    return {
      state: "in-doubt",
      code: TASK_IN_DOUBT_CODE,
      message: `the upstream link was lost after the task was sent and it could not be recovered within ${timeoutMs} ms`,
    };
  }
  return { state: "failed", code: TASK_TIMEOUT_CODE, message: `no complete result within the task timeout (${timeoutMs} ms)` };
}

export interface StopDecision {
  state: "failed" | "in-doubt";
  code: typeof TASK_ABORTED_CODE | typeof TASK_IN_DOUBT_CODE;
  message: string;
}

/**
 * The daemon stops waiting for an async task Runware accepted: in doubt, and the message names the
 * task and says how to ask again, for Runware keeps running it and keeps its results for getResponse
 * (docs/protocol.md §4.1, §4.5; docs/local-api.md §2.8).
 */
export function givenUp(taskUUID: string, why: string): { state: "in-doubt"; code: typeof TASK_IN_DOUBT_CODE; message: string } {
  return {
    state: "in-doubt",
    code: TASK_IN_DOUBT_CODE,
    message: `${why}; Runware accepted task ${taskUUID} and may still finish it: ask again with GET /v1/tasks/${taskUUID}?wait=1, a getResponse, or 'runware poll ${taskUUID}'`,
  };
}

/** An async task past `asyncTimeoutMs` from its acknowledgement. */
export function onAsyncDeadline(t: { taskUUID: string }, asyncTimeoutMs: number): DeadlineDecision {
  return givenUp(t.taskUUID, `the daemon stopped waiting after ${asyncTimeoutMs} ms (--async-timeout-ms)`);
}

/** The daemon stops with the task unfinished: in doubt once it may have reached Runware. */
export function onStop(t: DeliveryFacts & { taskUUID: string; async: boolean; acked: boolean }, reason: string): StopDecision {
  if (t.async && t.acked) return givenUp(t.taskUUID, `the daemon stopped (${reason}) before Runware finished the task`);
  if (mayHaveRun(t)) {
    return {
      state: "in-doubt",
      code: TASK_IN_DOUBT_CODE,
      message: `the daemon stopped (${reason}) while the task was running upstream; it may have completed there`,
    };
  }
  return { state: "failed", code: TASK_ABORTED_CODE, message: `the daemon stopped (${reason}) before the task was sent; it was not run` };
}
