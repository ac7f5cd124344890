/**
 * What `GET /v1/events` streams (issue 17; docs/local-api.md §7.3): one object per line (NDJSON),
 * or per `data:` line with `Accept: text/event-stream`. Never a task's input or results: names,
 * labels, times and costs only. Shared by the daemon and its clients, so types only.
 */
export type DaemonEvent =
  | { type: "task.accepted"; at: string; taskUUID: string; taskType: string; label: string }
  | { type: "task.sent"; at: string; taskUUID: string; taskType: string; label: string }
  | { type: "task.progress"; at: string; taskUUID: string; taskType: string; label: string; progress: number }
  | {
      type: "task.done" | "task.failed" | "task.in-doubt";
      at: string;
      taskUUID: string;
      taskType: string;
      label: string;
      ms: number;
      cost?: number;
      /** The first error's code, when it failed or ended in doubt. */
      code?: string;
    }
  | { type: "upstream.state"; at: string; from: string; to: string; reason: string }
  | { type: "budget.warning"; at: string; spentUsd: number; budgetUsd: number; window: string }
  /** The last line to a reader that fell behind its byte budget: it is dropped. */
  | { type: "dropped"; at: string; reason: string };
