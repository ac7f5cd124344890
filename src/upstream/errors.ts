/**
 * Errors the engine itself produces for a task or a submit (Runware's own errors pass through as
 * they came). Codes are stable; the local API maps them to HTTP statuses.
 */
import { RunwareDaemonError } from "../errors.js";

/** The same taskUUID is already pending here (Runware's own code for the same situation). */
export class ConflictError extends RunwareDaemonError {
  constructor(taskUUID: string) {
    super("conflictTaskUUID", `taskUUID ${taskUUID} is already in flight`);
  }
}

/** The bounded queue is full; the caller should retry later. Never a silent drop. */
export class QueueFullError extends RunwareDaemonError {
  constructor(limit: number) {
    super("queueFull", `the task queue is full (${limit} tasks waiting); retry later`);
  }
}

/** The engine is draining or closed and takes no new work. */
export class DrainingError extends RunwareDaemonError {
  constructor() {
    super("draining", "the daemon is shutting down and accepts no new tasks");
  }
}

export const TASK_TIMEOUT_CODE = "taskTimeout";
export const TASK_IN_DOUBT_CODE = "taskInDoubt";
export const TASK_ABORTED_CODE = "taskAborted";
