/**
 * How many result items a task yields before it is complete (docs/protocol.md §3.3):
 * inference tasks send `numberResults` items (default 1), `promptEnhance` sends `promptVersions`
 * items, `modelUpload` streams status items until a terminal status, everything else sends one.
 */
import type { DataItem } from "./schemas.js";

export type Expectation =
  | { readonly kind: "count"; readonly count: number }
  | { readonly kind: "status"; readonly terminal: ReadonlySet<string> };

/** Task types that honour `numberResults`. */
/** `textInference` takes `numberResults` too (docs/protocol.md §3.3: rw-ts task-map.ts). */
const MULTI_RESULT = new Set(["imageInference", "photoMaker", "videoInference", "audioInference", "3dInference", "textInference"]);
const MODEL_UPLOAD_TERMINAL: ReadonlySet<string> = new Set(["ready", "failed"]);

function positiveInt(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 ? value : fallback;
}

export function expectedResults(task: { taskType: string; [k: string]: unknown }): Expectation {
  // With a webhookURL Runware sends only its acknowledgement over the socket and POSTs the results
  // to the URL (docs/protocol.md §3.3): the acknowledgement is the task's one item.
  if (typeof task["webhookURL"] === "string" && task["webhookURL"] !== "") return { kind: "count", count: 1 };
  if (MULTI_RESULT.has(task.taskType)) return { kind: "count", count: positiveInt(task["numberResults"], 1) };
  if (task.taskType === "promptEnhance") return { kind: "count", count: positiveInt(task["promptVersions"], 1) };
  if (task.taskType === "modelUpload") return { kind: "status", terminal: MODEL_UPLOAD_TERMINAL };
  return { kind: "count", count: 1 };
}

/** True once `items` (this task's items so far, in arrival order) complete the task. */
export function isComplete(expect: Expectation, items: readonly DataItem[]): boolean {
  if (expect.kind === "count") return items.length >= expect.count;
  const last = items[items.length - 1];
  return last !== undefined && typeof last["status"] === "string" && expect.terminal.has(last["status"]);
}
