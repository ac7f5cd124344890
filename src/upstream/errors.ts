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

/** The bounded queue has no room now; the caller should retry later. Never a silent drop. */
export class QueueFullError extends RunwareDaemonError {
  constructor(message: string) {
    super("queueFull", message);
  }
}

/** More than the whole queue could ever hold at once: retrying cannot help, splitting does. */
export class BatchTooLargeError extends RunwareDaemonError {
  constructor(message: string) {
    super("batchTooLarge", message);
  }
}

/** One task larger than an upstream frame or the whole queue budget: it can never be sent. */
export class TaskTooLargeError extends RunwareDaemonError {
  constructor(taskUUID: string, bytes: number, limit: number, what: "frame" | "queue") {
    const where = what === "frame" ? "the largest frame the daemon sends upstream" : "the queue's whole byte budget";
    super(
      "taskTooLarge",
      `task ${taskUUID} is ${bytes} bytes encoded, more than ${where} (${limit} bytes); upload large media first (imageUpload) and pass its UUID or URL`,
    );
  }
}

/** A task that cannot be encoded as JSON (e.g. nested too deep); it fails alone. */
export class TaskEncodingError extends RunwareDaemonError {
  constructor(taskUUID: string, why: string) {
    super("invalidRequestBody", `task ${taskUUID} cannot be encoded as JSON: ${why}`);
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
