/**
 * Every JSON text the daemon writes to a local client is encoded here, and an encoding that fails
 * (a Runware reply nested too deep for JSON.stringify, a string past V8's length limit) becomes
 * that task's error rather than an exception in a write path: the last line of defence behind the
 * depth check on inbound frames (protocol/json-limits.ts).
 */
import type { RunwareErrorObject } from "../errors.js";

/** The code the inbound depth check gives a reply the daemon cannot pass on (protocol/codec.ts). */
export const UNENCODABLE_CODE = "invalidResponse";

/** `JSON.stringify(value)`, or undefined when it cannot be encoded. */
export function encode(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The error a task gets for a reply of its that could not be encoded for its caller. */
export function unencodable(task: { taskUUID: string; taskType: string }, what = "a result"): RunwareErrorObject {
  return {
    code: UNENCODABLE_CODE,
    message: `${what} of this task from Runware could not be encoded as JSON (nested too deep or too large); the daemon does not pass it on`,
    taskUUID: task.taskUUID,
    taskType: task.taskType,
  };
}
