/**
 * The journal: the durable half of the daemon's task state (issue 15; docs/reliability.md "The
 * journal"). Recorded: each accepted task (the task as sent, who asked, when) before it goes
 * upstream, its phase as it moves, the acknowledgement, result items as they arrive, its outcome
 * at the end, and the link's `connectionSessionUUID`. Writes are gathered and committed in one
 * transaction per event-loop turn, and at the latest right before the engine writes tasks upstream
 * (`flush`, the engine's beforeSend), so the hot path pays one commit per turn, not one per frame;
 * within a commit a task's changes collapse into the fewest statements (rows.ts).
 * Finished tasks leave with the result store's budgets (`forget`): this is that store's durable
 * half, not a second copy with other rules.
 */
import { chmodSync, existsSync } from "node:fs";
import type Database from "better-sqlite3";
import type { RunwareErrorObject } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { AcceptedTask, UnfinishedTask } from "../../upstream/engine.js";
import type { Phase } from "../../upstream/lifecycle.js";
import type { TaskHandle, TaskOutcome } from "../../upstream/task.js";
import { PendingChanges, statementsOf, type Change, type Row } from "./rows.js";
import { openJournalDb } from "./schema.js";
import { outcomeRecord, readFinished, readSession, readUnfinished, type FinishedTask } from "./read-back.js";

export type { FinishedTask } from "./read-back.js";

/**
 * Every SWEEP_MS: finished rows let go since the last sweep are deleted together, and the WAL is
 * checkpointed (PASSIVE) if anything was committed. Measured in a microbenchmark of the journal's
 * statements (not separately in npm run bench:journal), a delete per commit and SQLite's own
 * checkpoint every 1000 pages each cost about a fifth of its time; gathered here they touch old
 * pages once a second instead of at every commit.
 */
const SWEEP_MS = 1_000;
/** Deleted at the next commit instead of the next sweep once this many wait. */
const SWEEP_AT = 512;
/**
 * A phase or ack change waits at most this long for a commit to ride with (under load the next
 * turn's commit takes it); so the window in which a restart resends a task that was sent, under
 * its own UUID, stays this short.
 */
const LAZY_MS = 20;

type Stmt = "insert" | "move" | "finish" | "item" | "dropItems" | "delete" | "meta";

export class Journal {
  private readonly db: Database.Database;
  private readonly st: Record<Stmt, Database.Statement>;
  /** Every row the database holds (or will at the next commit), by taskUUID. */
  private readonly rows = new Map<string, Row>();
  private readonly pending = new PendingChanges();
  private sessionToWrite: string | undefined;
  /** Writes of others (the history: journal/history.ts) that ride with the next commit. */
  private alongside: Array<() => void> = [];
  private nextId = 1;
  private immediate: NodeJS.Immediate | undefined;
  private lazy: NodeJS.Timeout | undefined;
  private readonly sweeper: NodeJS.Timeout;
  /** Finished rows let go of, deleted at the next sweep. */
  private doomed: Row[] = [];
  private committedSinceCheckpoint = false;
  private readonly commit: (changes: Change[], session: string | undefined, doomed: Row[], extra: Array<() => void>) => void;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly opts: { inputMaxBytes: number; now: () => number; log: Logger },
  ) {
    this.db = openJournalDb(file, opts.log);
    const db = this.db;
    this.st = {
      insert: db.prepare(
        "INSERT INTO tasks (id, uuid, task_type, client, label, cost_hidden, input, input_bytes, accepted_at, phase, sent, acked, finished_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      move: db.prepare("UPDATE tasks SET phase = ?, sent = ?, acked = ? WHERE id = ?"),
      finish: db.prepare(
        "UPDATE tasks SET phase = ?, sent = ?, acked = ?, finished_at = ?, outcome = ?, input = CASE WHEN input_bytes > ? THEN NULL ELSE input END WHERE id = ?",
      ),
      item: db.prepare("INSERT OR REPLACE INTO items (task, seq, item) VALUES (?, ?, ?)"),
      dropItems: db.prepare("DELETE FROM items WHERE task = ?"),
      delete: db.prepare("DELETE FROM tasks WHERE id = ?"),
      meta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
    this.commit = db.transaction((changes: Change[], session: string | undefined, doomed: Row[], extra: Array<() => void>) => {
      if (session !== undefined) this.st.meta.run("sessionUUID", session);
      for (const write of extra) write();
      for (const c of changes) for (const s of statementsOf(c)) this.run(s);
      for (const row of doomed) for (const s of statementsOf({ row, forget: true, items: [] })) this.run(s);
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();
    for (const suffix of ["-wal", "-shm"]) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
    const last = db.prepare("SELECT max(id) FROM tasks").pluck().get() as number | null;
    this.nextId = (last ?? 0) + 1;
  }

  // --- what happens, recorded ---------------------------------------------------------------------

  /** A task accepted (or adopted): recorded, and followed through its handle until it ends. */
  accepted(task: AcceptedTask, handle: Pick<TaskHandle, "subscribe">): void {
    if (task.passthrough || this.closed) return; // a caller's own getResponse is an answer, not work
    const known = this.rows.get(task.taskUUID);
    let row: Row;
    if (known && !known.final) {
      row = known; // adopted at start: its row is already there
    } else {
      if (known) this.drop(known); // the same UUID again after it finished: the new one replaces it
      row = {
        id: this.nextId++,
        taskUUID: task.taskUUID,
        phase: "queued",
        sent: false,
        acked: false,
        final: false,
        itemsStored: false,
        nextSeq: 0,
      };
      this.rows.set(task.taskUUID, row);
      const fresh = {
        taskType: task.taskType,
        client: task.client,
        label: task.label,
        costHidden: task.costHidden,
        input: task.text,
        inputBytes: Buffer.byteLength(task.text),
        acceptedAt: this.opts.now(),
      };
      this.change(row).insert = fresh;
    }
    handle.subscribe((ev) => {
      if (ev.type === "ack") {
        row.acked = true;
        this.change(row, false).moved = true;
      } else if (ev.type === "data") {
        this.change(row).items.push({ seq: row.nextSeq++, item: ev.item });
      } else if (ev.type === "final") {
        this.finished(row, ev.outcome);
      }
    });
  }

  moved(taskUUID: string, to: Phase): void {
    if (to === "done" || to === "failed" || to === "in-doubt") return; // the outcome records it
    const row = this.rows.get(taskUUID);
    if (!row || row.final) return;
    row.phase = to;
    if (to === "sent") row.sent = true;
    this.change(row, false).moved = true;
  }

  session(sessionUUID: string): void {
    this.sessionToWrite = sessionUUID;
    this.later();
  }

  /** The result store let the finished task go (expired or evicted): so does the journal. */
  forget(taskUUID: string): void {
    const row = this.rows.get(taskUUID);
    if (!row) return;
    if (row.final) this.drop(row);
    else row.goneEarly = true;
  }

  private drop(row: Row): void {
    this.rows.delete(row.taskUUID);
    // Stored and nothing else pending: it waits for the sweep (or for company: SWEEP_AT).
    if (row.final && !this.pending.has(row)) {
      this.doomed.push(row);
      if (this.doomed.length >= SWEEP_AT) this.later();
      return;
    }
    this.change(row).forget = true;
  }

  private finished(row: Row, o: TaskOutcome): void {
    row.final = true;
    row.phase = o.state;
    if (row.goneEarly) {
      this.drop(row);
      return;
    }
    this.change(row).finish = { at: this.opts.now(), outcome: JSON.stringify(outcomeRecord(o)) };
  }

  // --- committing ---------------------------------------------------------------------------------

  /** The database, for a table of its own that commits with the journal (journal/history.ts). */
  get database(): Database.Database {
    return this.db;
  }

  /** `write` runs inside the next commit's transaction: a task's finish and its history entry are durable together. */
  writeAlong(write: () => void): void {
    if (this.closed) return;
    this.alongside.push(write);
    this.later();
  }

  /**
   * `urgent` false: a phase or the ack, which recovery does not need to be right (a task resent
   * under its own UUID that Runware has answers conflictTaskUUID and is polled: docs/protocol.md
   * §5.3); it rides with the next commit, within LAZY_MS, instead of making one of its own.
   */
  private change(row: Row, urgent = true): Change {
    if (urgent) this.later();
    else if (!this.closed) {
      this.lazy ??= setTimeout(() => {
        this.lazy = undefined;
        this.flush();
      }, LAZY_MS).unref();
    }
    return this.pending.of(row);
  }

  private later(): void {
    if (this.closed) return;
    // Committed at the end of this turn; a send in this turn commits first (beforeSend).
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
  }

  private run(s: ReturnType<typeof statementsOf>[number]): void {
    const r = s.row;
    const flags = [r.phase, r.sent ? 1 : 0, r.acked ? 1 : 0] as const;
    switch (s.op) {
      case "insert": {
        const f = s.fresh;
        const input = s.finish && f.inputBytes > this.opts.inputMaxBytes ? null : f.input;
        this.st.insert.run(
          r.id,
          r.taskUUID,
          f.taskType,
          f.client,
          f.label,
          f.costHidden ? 1 : 0,
          input,
          f.inputBytes,
          f.acceptedAt,
          ...flags,
          s.finish?.at ?? null,
          s.finish?.outcome ?? null,
        );
        return;
      }
      case "move":
        this.st.move.run(...flags, r.id);
        return;
      case "finish":
        this.st.finish.run(...flags, s.finish.at, s.finish.outcome, this.opts.inputMaxBytes, r.id);
        return;
      case "item":
        this.st.item.run(r.id, s.seq, JSON.stringify(s.item));
        r.itemsStored = true;
        return;
      case "dropItems":
        this.st.dropItems.run(r.id);
        r.itemsStored = false;
        return;
      case "delete":
        this.st.delete.run(r.id);
        return;
    }
  }

  private sweep(): void {
    this.flush(true);
    if (!this.committedSinceCheckpoint || this.closed) return;
    this.committedSinceCheckpoint = false;
    try {
      this.db.pragma("wal_checkpoint(PASSIVE)");
    } catch (err) {
      this.opts.log.error({ err, journal: this.file }, "journal checkpoint failed");
    }
  }

  /** Commit everything recorded so far, now (before tasks go upstream; at close); `all`: the doomed rows too. */
  flush(all = false): void {
    const doomed = all || this.doomed.length >= SWEEP_AT ? this.doomed : [];
    if (this.pending.size === 0 && this.sessionToWrite === undefined && doomed.length === 0 && this.alongside.length === 0) return;
    const changes = this.pending.take();
    const extra = this.alongside;
    this.alongside = [];
    if (doomed.length > 0) this.doomed = [];
    const session = this.sessionToWrite;
    this.sessionToWrite = undefined;
    this.committedSinceCheckpoint = true;
    try {
      this.commit(changes, session, doomed, extra);
    } catch (err) {
      // A full disk or a removed file must not take the daemon down: it goes on in memory and says so.
      this.opts.log.error({ err, journal: this.file, lost: changes.length }, "journal write failed; these changes are not durable");
    }
  }

  close(): void {
    if (this.closed) return;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    clearTimeout(this.lazy);
    this.lazy = undefined;
    clearInterval(this.sweeper);
    this.flush(true);
    this.closed = true;
    this.db.close();
  }

  // --- reading at start ---------------------------------------------------------------------------

  sessionUUID(): string | undefined {
    return readSession(this.db);
  }

  /** Finished tasks newer than `since`, oldest first; older ones are deleted. */
  finishedSince(since: number): FinishedTask[] {
    return readFinished(this.db, since).map(({ row, task }) => {
      this.hold(row);
      return task;
    });
  }

  /** Every task that was not final, in the order it was accepted, with the items it had received. */
  unfinished(): UnfinishedTask[] {
    return readUnfinished(this.db).map(({ row, task }) => {
      this.hold(row);
      return task;
    });
  }

  /** A row read at start; of two with one UUID (never written so, but cheap to be sure of) the newer stays. */
  private hold(row: Row): void {
    const other = this.rows.get(row.taskUUID);
    if (other && other.id > row.id) {
      this.change(row).forget = true;
      return;
    }
    if (other) this.change(other).forget = true;
    this.rows.set(row.taskUUID, row);
  }

  /** A journaled task the daemon could not take up again ends failed, with the reason. */
  abandon(u: Pick<UnfinishedTask, "taskUUID" | "taskType">, error: RunwareErrorObject): void {
    const row = this.rows.get(u.taskUUID);
    if (row) this.finished(row, { taskUUID: u.taskUUID, taskType: u.taskType, state: "failed", data: [], errors: [error] });
  }
}
