/**
 * A task's life in the engine and the moves allowed between its phases, the way `state.ts` is for
 * the connection. Every change goes through `UpstreamEngine.moveTo()`, which checks this table and
 * logs from -> to with the reason; an illegal move is a bug and throws.
 */
import { RunwareDaemonError } from "../errors.js";

/** The state of a task as callers see it (`GET /v1/tasks/{uuid}`, docs/local-api.md §2.4). */
export type TaskState = "queued" | "sent" | "done" | "failed" | "in-doubt";

/** Where a task is in its life; its `TaskState` is derived from it (`STATE_OF`). */
export type Phase =
  | "queued" // waiting for an in-flight slot
  | "sent" // written upstream under its taskUUID; results due on the socket
  | "retry-wait" // a transient error: back in the queue, same taskUUID, after a delay
  | "recovering" // the link dropped after the send: waiting for Runware's replay or a fresh session
  | "polling" // results are fetched with getResponse (async task, conflictTaskUUID, recovery); an
  //            acknowledged async task holds no in-flight slot here, only its place under maxAsync
  | "done" // final: every expected result arrived
  | "failed" // final: Runware's errors, a timeout, or refused before it was sent
  | "in-doubt"; // final: sent, but whether it ran cannot be known (docs/local-api.md §2.4)

export type FinalPhase = Extract<Phase, "done" | "failed" | "in-doubt">;

/** Every phase may end: results, errors, a timeout, or the daemon stopping. */
const ENDINGS = ["done", "failed", "in-doubt"] as const;

export const MOVES: Readonly<Record<Phase, readonly Phase[]>> = {
  // A late answer to an attempt that is over may still complete a queued task (engine keeps it).
  // polling: a lookup asks Runware again about an async task it accepted (engine.reopen): never resubmitted.
  queued: ["sent", "polling", ...ENDINGS],
  sent: ["polling", "retry-wait", "recovering", ...ENDINGS],
  "retry-wait": ["queued", ...ENDINGS],
  // Fresh session: resubmitted (sent). Resumed: Runware replays, then what is missing is polled.
  recovering: ["sent", "polling", "retry-wait", ...ENDINGS],
  // Polling survives a dropped link (getResponse is keyed by taskUUID, not by connection); a
  // "not found" for a task Runware never acknowledged is resubmitted (sent).
  polling: ["sent", "retry-wait", ...ENDINGS],
  done: [],
  failed: [],
  "in-doubt": [],
};

export const PHASES = Object.keys(MOVES) as Phase[];

export const STATE_OF: Readonly<Record<Phase, TaskState>> = {
  queued: "queued",
  sent: "sent",
  "retry-wait": "sent",
  recovering: "sent",
  polling: "sent",
  done: "done",
  failed: "failed",
  "in-doubt": "in-doubt",
};

export function isFinal(phase: Phase): phase is FinalPhase {
  return MOVES[phase].length === 0;
}

export function canMove(from: Phase, to: Phase): boolean {
  return MOVES[from].includes(to);
}

/** A move the table does not allow: a bug in the engine, never a consequence of input. */
export class IllegalMoveError extends RunwareDaemonError {
  constructor(
    readonly from: Phase,
    readonly to: Phase,
    reason: string,
  ) {
    super("illegalTaskMove", `illegal task move ${from} -> ${to} (${reason})`);
  }
}

/** Throws `IllegalMoveError` unless `from -> to` is in the table. */
export function checkMove(from: Phase, to: Phase, reason: string): void {
  if (!canMove(from, to)) throw new IllegalMoveError(from, to, reason);
}
