/**
 * `runware events` on a terminal: one readable line per event (issue 17), time first, then what
 * happened, the task's type, a short UUID and its label; for an end, how long and what it cost.
 * Pure. Label, code and reason text have control characters replaced: they come from callers and the wire.
 */
import type { DaemonEvent } from "../protocol/events.js";
import { clean, formatDuration } from "./history-table.js";

function clock(iso: string): string {
  const d = new Date(iso);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

type TaskEvent = Extract<DaemonEvent, { taskUUID: string }>;

function taskHead(at: string, ev: TaskEvent): string {
  return `${at}  ${ev.type.slice("task.".length).padEnd(9)}  ${clean(ev.taskType).padEnd(16)}  ${ev.taskUUID.slice(0, 8)}  ${clean(ev.label)}`;
}

export function eventLine(ev: DaemonEvent): string {
  const at = clock(ev.at);
  switch (ev.type) {
    case "upstream.state":
      return `${at}  upstream   ${ev.from} -> ${ev.to} (${clean(ev.reason)})`;
    case "budget.warning":
      return `${at}  budget     $${ev.spentUsd} of $${ev.budgetUsd} in ${ev.window} spent`;
    case "dropped":
      return `${at}  dropped    ${clean(ev.reason)}`;
    case "task.accepted":
    case "task.sent":
      return taskHead(at, ev);
    case "task.progress":
      return `${taskHead(at, ev)}  ${ev.progress}%`;
    case "task.done":
    case "task.failed":
    case "task.in-doubt": {
      const cost = ev.cost === undefined ? "" : `  $${ev.cost}`;
      const code = ev.code === undefined ? "" : `  ${clean(ev.code)}`;
      return `${taskHead(at, ev)}  ${formatDuration(ev.ms)}${cost}${code}`;
    }
    default:
      // A type a newer daemon sends: shown by its name.
      return `${at}  ${clean(String((ev as { type: unknown }).type))}`;
  }
}
