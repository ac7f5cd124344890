/**
 * `runware history --show UUID --input`: the task as sent, made ready to run again with
 * `runware run TYPE --file F` (run.ts reads one JSON object). Pure.
 */
import type { HistoryEntry } from "../protocol/history.js";

/**
 * The entry's task to send again: without its taskUUID (a new run is a new task), without
 * `deliveryMethod: "async"` (the daemon adds it back for the kinds that need it and polls them, so
 * `run` prints results, not an acknowledgement), and with the seed it ran with when the task named
 * none (the entry's seed is then the first result's), so it runs the same. Undefined when the
 * daemon no longer has the task as sent.
 */
export function rerunInput(entry: Pick<HistoryEntry, "input" | "seed">): Record<string, unknown> | undefined {
  if (!entry.input) return undefined;
  const { taskUUID: _uuid, ...task } = entry.input;
  if (task["deliveryMethod"] === "async") delete task["deliveryMethod"];
  if (task["seed"] === undefined && entry.seed !== undefined) task["seed"] = entry.seed;
  return task;
}
