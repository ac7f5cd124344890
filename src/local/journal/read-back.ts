/**
 * Reading the journal back at start (issue 15; docs/reliability.md "The journal"): the session,
 * the finished tasks still within retention (older ones deleted), the unfinished ones with the
 * items they had received; each with the row the Journal then holds. And the outcome's stored
 * form, written at a task's end and read here.
 */
import type Database from "better-sqlite3";
import type { DataItem } from "../../protocol/schemas.js";
import type { UnfinishedTask } from "../../upstream/adopt.js";
import type { Phase } from "../../upstream/lifecycle.js";
import type { TaskOutcome } from "../../upstream/task.js";
import type { Row } from "./rows.js";

export interface FinishedTask {
  readonly outcome: TaskOutcome;
  readonly finishedAt: number;
}

/** What the `outcome` column holds: the outcome without what the row's columns say. */
export type OutcomeRecord = Omit<TaskOutcome, "taskUUID" | "taskType" | "label">;

export function outcomeRecord(o: TaskOutcome): OutcomeRecord {
  return {
    state: o.state,
    data: o.data,
    errors: o.errors,
    ...(o.askAgain ? { askAgain: true as const } : {}),
    ...(o.expected !== undefined ? { expected: o.expected } : {}),
    ...(o.costHidden ? { costHidden: true as const } : {}),
  };
}

export function readSession(db: Database.Database): string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'sessionUUID'").get() as { value: string } | undefined;
  return row?.value;
}

/** Finished tasks newer than `since`, oldest first; older ones (and their items) are deleted. */
export function readFinished(db: Database.Database, since: number): Array<{ row: Row; task: FinishedTask }> {
  db.prepare("DELETE FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ?").run(since);
  db.exec("DELETE FROM items WHERE task NOT IN (SELECT id FROM tasks)");
  const rows = db
    .prepare(
      "SELECT id, uuid, task_type, label, phase, finished_at, outcome FROM tasks WHERE finished_at IS NOT NULL ORDER BY finished_at, id",
    )
    .all() as Array<{ id: number; uuid: string; task_type: string; label: string; phase: Phase; finished_at: number; outcome: string }>;
  return rows.map((r) => ({
    row: { id: r.id, taskUUID: r.uuid, phase: r.phase, sent: true, acked: false, final: true, itemsStored: false, nextSeq: 0 },
    task: {
      outcome: { taskUUID: r.uuid, taskType: r.task_type, label: r.label, ...(JSON.parse(r.outcome) as OutcomeRecord) },
      finishedAt: r.finished_at,
    },
  }));
}

/** Every task that was not final, in the order it was accepted, with the items it had received (one whose input was dropped is skipped). */
export function readUnfinished(db: Database.Database): Array<{ row: Row; task: UnfinishedTask }> {
  const rows = db
    .prepare(
      "SELECT id, uuid, task_type, client, label, cost_hidden, input, accepted_at, phase, sent, acked FROM tasks WHERE finished_at IS NULL ORDER BY id",
    )
    .all() as Array<{
    id: number;
    uuid: string;
    task_type: string;
    client: string;
    label: string;
    cost_hidden: number;
    input: string | null;
    accepted_at: number;
    phase: Phase;
    sent: number;
    acked: number;
  }>;
  const items = db.prepare("SELECT item FROM items WHERE task = ? ORDER BY seq").pluck();
  return rows.flatMap((r) => {
    if (r.input === null) return [];
    const data = (items.all(r.id) as string[]).map((i) => JSON.parse(i) as DataItem);
    const task: UnfinishedTask = {
      taskUUID: r.uuid,
      taskType: r.task_type,
      text: r.input,
      client: r.client,
      label: r.label,
      costHidden: r.cost_hidden === 1,
      phase: r.phase,
      sent: r.sent === 1,
      acked: r.acked === 1,
      data,
      acceptedAt: r.accepted_at,
    };
    const row: Row = {
      id: r.id,
      taskUUID: r.uuid,
      phase: r.phase,
      sent: task.sent,
      acked: task.acked,
      final: false,
      itemsStored: data.length > 0,
      nextSeq: data.length,
    };
    return [{ row, task }];
  });
}
