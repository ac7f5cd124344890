/**
 * When a task is complete, from its kind's ending (protocol/task-kinds.ts; docs/protocol.md §3.3):
 * a count of items, a status stream's first end status, or, with a `webhookURL`, Runware's
 * acknowledgement (the results go to the webhook).
 */
import type { DataItem } from "./schemas.js";
import { kindOf } from "./task-kinds.js";

export type Expectation =
  | { readonly kind: "count"; readonly count: number }
  /** With a webhookURL: the acknowledgement is the task's one item (async or not). */
  | { readonly kind: "ack" }
  | { readonly kind: "status"; readonly inProgress: ReadonlySet<string>; readonly success: string };

/** A finished task: done, or failed with the error its end status means. */
export type TaskEnd = { readonly state: "done" } | { readonly state: "failed"; readonly code: string; readonly message: string };

/** The code of a status stream that ended in a status other than its success one (e.g. modelUpload's "error downloading"). */
export const STATUS_FAILED_CODE = "taskStatusFailed";

function positiveInt(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 ? value : fallback;
}

export function hasWebhook(task: Record<string, unknown>): boolean {
  return typeof task["webhookURL"] === "string" && task["webhookURL"] !== "";
}

export function expectedResults(task: { taskType: string; [k: string]: unknown }): Expectation {
  // With a webhookURL Runware sends only its acknowledgement over the socket and POSTs the results
  // to the URL (docs/protocol.md §3.3, platform/webhooks; sdk-py waits for exactly one ack).
  if (hasWebhook(task)) return { kind: "ack" };
  const ending = kindOf(task.taskType)?.ending;
  if (ending?.by === "status") return { kind: "status", inProgress: new Set(ending.inProgress), success: ending.success };
  return { kind: "count", count: ending ? positiveInt(task[ending.field], 1) : 1 };
}

/** How `items` (this task's items so far, in arrival order) end the task; undefined while it runs. */
export function endOf(expect: Expectation, items: readonly DataItem[]): TaskEnd | undefined {
  if (expect.kind === "count") return items.length >= expect.count ? { state: "done" } : undefined;
  if (expect.kind === "ack") return items.length >= 1 ? { state: "done" } : undefined;
  const last = items[items.length - 1];
  const status = last?.["status"];
  if (typeof status !== "string" || expect.inProgress.has(status)) return undefined;
  if (status === expect.success) return { state: "done" };
  const said = typeof last?.["message"] === "string" && last["message"] !== "" ? `: ${last["message"]}` : "";
  return { state: "failed", code: STATUS_FAILED_CODE, message: `the task ended with status "${status}"${said}` };
}

/** True once `items` complete the task, well or not. */
export function isComplete(expect: Expectation, items: readonly DataItem[]): boolean {
  return endOf(expect, items) !== undefined;
}
