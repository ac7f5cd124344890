/**
 * The journal: the durable half of the daemon's task state (issue 15; docs/reliability.md "The
 * journal"). Recorded: each accepted task (the task as sent, who asked, when) before it goes
 * upstream, its phase as it moves, the acknowledgement, result items as they arrive, its outcome
 * at the end, and the link's `connectionSessionUUID`. Writes are gathered and committed in one
 * transaction per event-loop turn, and at the latest right before the engine writes tasks upstream
 * (`flush`, the engine's beforeSend), so the hot path pays one commit per turn, not one per frame.
 * Finished tasks leave with the result store's budgets (`forget`): this is that store's durable
 * half, not a second copy with other rules.
 */
import { chmodSync, existsSync } from "node:fs";
import type Database from "better-sqlite3";
import type { RunwareErrorObject } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { DataItem } from "../../protocol/schemas.js";
import type { AcceptedTask, UnfinishedTask } from "../../upstream/engine.js";
import type { Phase } from "../../upstream/lifecycle.js";
import type { TaskHandle, TaskOutcome } from "../../upstream/task.js";
import { openJournalDb } from "./schema.js";

export interface FinishedTask {
  readonly outcome: TaskOutcome;
  readonly finishedAt: number;
}

type Write = () => void;

export class Journal {
  private readonly db: Database.Database;
  private readonly st: Record<
    "insert" | "phase" | "sent" | "acked" | "item" | "finish" | "dropItems" | "forget" | "meta",
    Database.Statement
  >;
  private writes: Write[] = [];
  private immediate: NodeJS.Immediate | undefined;
  private readonly commit: (writes: Write[]) => void;
  /** Per task, the next item sequence number. */
  private readonly seq = new Map<string, number>();
  private closed = false;

  constructor(
    readonly file: string,
    private readonly opts: { inputMaxBytes: number; now: () => number; log: Logger },
  ) {
    this.db = openJournalDb(file, opts.log);
    const db = this.db;
    this.st = {
      insert: db.prepare(
        "INSERT INTO tasks (uuid, task_type, client, input, input_bytes, accepted_at, phase) VALUES (?, ?, ?, ?, ?, ?, 'queued') ON CONFLICT (uuid) DO NOTHING",
      ),
      phase: db.prepare("UPDATE tasks SET phase = ? WHERE uuid = ? AND finished_at IS NULL"),
      sent: db.prepare("UPDATE tasks SET sent = 1 WHERE uuid = ?"),
      acked: db.prepare("UPDATE tasks SET acked = 1 WHERE uuid = ?"),
      item: db.prepare("INSERT OR REPLACE INTO items (uuid, seq, item) VALUES (?, ?, ?)"),
      finish: db.prepare(
        "UPDATE tasks SET phase = ?, finished_at = ?, outcome = ?, input = CASE WHEN input_bytes > ? THEN NULL ELSE input END WHERE uuid = ?",
      ),
      dropItems: db.prepare("DELETE FROM items WHERE uuid = ?"),
      forget: db.prepare("DELETE FROM tasks WHERE uuid = ? AND finished_at IS NOT NULL"),
      meta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
    this.commit = db.transaction((writes: Write[]) => {
      for (const w of writes) w();
    });
    for (const suffix of ["-wal", "-shm"]) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
  }

  // --- what happens, recorded ---------------------------------------------------------------------

  /** A task accepted (or adopted): recorded, and followed through its handle until it ends. */
  accepted(task: AcceptedTask, handle: TaskHandle): void {
    if (task.passthrough) return; // a caller's own getResponse is an answer, not work
    const at = this.opts.now();
    const bytes = Buffer.byteLength(task.text);
    this.write(() => this.st.insert.run(task.taskUUID, task.taskType, task.client, task.text, bytes, at));
    handle.subscribe((ev) => {
      if (ev.type === "ack") this.write(() => this.st.acked.run(task.taskUUID));
      else if (ev.type === "data") this.item(task.taskUUID, ev.item);
      else if (ev.type === "final") this.finished(ev.outcome);
    });
  }

  moved(taskUUID: string, to: Phase): void {
    if (to === "done" || to === "failed" || to === "in-doubt") return; // the outcome records it
    this.write(() => {
      this.st.phase.run(to, taskUUID);
      if (to === "sent") this.st.sent.run(taskUUID);
    });
  }

  session(sessionUUID: string): void {
    this.write(() => this.st.meta.run("sessionUUID", sessionUUID));
  }

  /** The result store let the finished task go (expired or evicted): so does the journal. */
  forget(taskUUID: string): void {
    this.write(() => this.st.forget.run(taskUUID));
  }

  private item(taskUUID: string, item: DataItem): void {
    const n = this.seq.get(taskUUID) ?? 0;
    this.seq.set(taskUUID, n + 1);
    const text = JSON.stringify(item);
    this.write(() => this.st.item.run(taskUUID, n, text));
  }

  private finished(o: TaskOutcome): void {
    this.seq.delete(o.taskUUID);
    const text = JSON.stringify(outcomeRecord(o));
    const at = this.opts.now();
    this.write(() => {
      this.st.finish.run(o.state, at, text, this.opts.inputMaxBytes, o.taskUUID);
      this.st.dropItems.run(o.taskUUID);
    });
  }

  // --- committing ---------------------------------------------------------------------------------

  private write(w: Write): void {
    if (this.closed) return;
    this.writes.push(w);
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
  }

  /** Commit everything recorded so far, now (before tasks go upstream; at close). */
  flush(): void {
    if (this.writes.length === 0) return;
    const writes = this.writes;
    this.writes = [];
    try {
      this.commit(writes);
    } catch (err) {
      // A full disk or a removed file must not take the daemon down: it goes on in memory and says so.
      this.opts.log.error({ err, journal: this.file, lost: writes.length }, "journal write failed; these changes are not durable");
    }
  }

  close(): void {
    if (this.closed) return;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  // --- reading at start ---------------------------------------------------------------------------

  sessionUUID(): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'sessionUUID'").get() as { value: string } | undefined;
    return row?.value;
  }

  /** Finished tasks newer than `since`, oldest first; older ones are deleted. */
  finishedSince(since: number): FinishedTask[] {
    this.db.prepare("DELETE FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ?").run(since);
    const rows = this.db
      .prepare("SELECT uuid, task_type, finished_at, outcome FROM tasks WHERE finished_at IS NOT NULL ORDER BY finished_at")
      .all() as Array<{ uuid: string; task_type: string; finished_at: number; outcome: string }>;
    return rows.map((r) => ({
      outcome: { taskUUID: r.uuid, taskType: r.task_type, ...(JSON.parse(r.outcome) as OutcomeRecord) },
      finishedAt: r.finished_at,
    }));
  }

  /** Every task that was not final, in the order it was accepted, with the items it had received. */
  unfinished(): UnfinishedTask[] {
    const rows = this.db
      .prepare("SELECT uuid, task_type, client, input, phase, sent, acked FROM tasks WHERE finished_at IS NULL ORDER BY accepted_at")
      .all() as Array<{ uuid: string; task_type: string; client: string; input: string | null; phase: Phase; sent: number; acked: number }>;
    const items = this.db.prepare("SELECT item FROM items WHERE uuid = ? ORDER BY seq").pluck();
    return rows.flatMap((r) => {
      if (r.input === null) return [];
      const data = (items.all(r.uuid) as string[]).map((i) => JSON.parse(i) as DataItem);
      this.seq.set(r.uuid, data.length);
      return [
        {
          taskUUID: r.uuid,
          taskType: r.task_type,
          text: r.input,
          client: r.client,
          phase: r.phase,
          sent: r.sent === 1,
          acked: r.acked === 1,
          data,
        },
      ];
    });
  }

  /** A journaled task the daemon could not take up again ends failed, with the reason. */
  abandon(taskUUID: string, error: RunwareErrorObject): void {
    const o: TaskOutcome = { taskUUID, taskType: "unknown", state: "failed", data: [], errors: [error] };
    const row = this.db.prepare("SELECT task_type FROM tasks WHERE uuid = ?").get(taskUUID) as { task_type: string } | undefined;
    this.finished({ ...o, taskType: row?.task_type ?? o.taskType });
  }

  /** Bytes on disk (the database and its WAL), for the benchmark. */
  bytesOnDisk(): number {
    const page = Number(this.db.pragma("page_size", { simple: true }));
    return page * Number(this.db.pragma("page_count", { simple: true }));
  }
}

type OutcomeRecord = Omit<TaskOutcome, "taskUUID" | "taskType">;

function outcomeRecord(o: TaskOutcome): OutcomeRecord {
  return {
    state: o.state,
    data: o.data,
    errors: o.errors,
    ...(o.askAgain ? { askAgain: true as const } : {}),
    ...(o.expected !== undefined ? { expected: o.expected } : {}),
  };
}
