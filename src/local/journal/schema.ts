/**
 * The journal's schema, with a version (`PRAGMA user_version`) and the migrations that reach it,
 * and opening it: WAL, `synchronous = NORMAL` (docs/reliability.md "The journal": a commit survives
 * the daemon's death, since it is in the WAL the moment it is written; only a power loss or an OS
 * crash can take the last moments). A journal that will not open, fails its check, or comes from a
 * newer version is moved aside with a clear log line, and the daemon starts with an empty one.
 */
import { chmodSync, existsSync, renameSync } from "node:fs";
import Database from "better-sqlite3";
import type { Logger } from "../../log.js";

/** Each entry takes the schema from version i to i+1. */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) =>
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      -- One row per accepted task; id grows with acceptance, so a commit writes the table's newest
      -- pages rather than one random page per task (UUID keys). input: the task as sent (never a
      -- key), dropped once final when large. outcome: {state, data, errors, askAgain?, expected?} once final.
      CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL,
        task_type TEXT NOT NULL,
        client TEXT NOT NULL,
        input TEXT,
        input_bytes INTEGER NOT NULL,
        accepted_at INTEGER NOT NULL,
        phase TEXT NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0,
        acked INTEGER NOT NULL DEFAULT 0,
        finished_at INTEGER,
        outcome TEXT
      );
      -- Result items of unfinished tasks as they arrive (moved into the outcome at the end).
      CREATE TABLE items (task INTEGER NOT NULL, seq INTEGER NOT NULL, item TEXT NOT NULL, PRIMARY KEY (task, seq)) WITHOUT ROWID;
    `),
  // Issue 16: who asked (label), and whether the caller asked for the cost the daemon asks for.
  (db) =>
    db.exec(`
      ALTER TABLE tasks ADD COLUMN label TEXT NOT NULL DEFAULT 'unlabelled';
      ALTER TABLE tasks ADD COLUMN cost_hidden INTEGER NOT NULL DEFAULT 0;
    `),
  // Issue 16: the history, one row per finished task (kept historyRetentionMs, apart from the
  // result store's retention). entry: the HistoryEntry as JSON ('' once trimmed for
  // historyMaxBytes); the columns are what lists filter on and what spend sums at start.
  (db) =>
    db.exec(`
      CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        task_uuid TEXT NOT NULL,
        finished_at INTEGER NOT NULL,
        label TEXT NOT NULL,
        task_type TEXT NOT NULL,
        cost REAL,
        uncosted TEXT,
        entry TEXT NOT NULL
      );
      CREATE INDEX history_finished_at ON history (finished_at);
      CREATE INDEX history_task_uuid ON history (task_uuid);
    `),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function moveAside(file: string, why: string, log: Logger): void {
  const aside = `${file}.${why}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  log.error(
    { journal: file, movedTo: aside },
    `the journal was ${why === "newer" ? "written by a newer version" : "unreadable"}: moved aside to ${aside}; starting with an empty journal`,
  );
}

function tryOpen(file: string): { db: Database.Database } | { problem: "corrupt" | "newer" } {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    // One writer, ever (the lock file guards it): EXCLUSIVE keeps the WAL index in the process and
    // skips two file-lock calls per commit, about a quarter of a small commit's cost.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = WAL");
    const version = Number(db.pragma("user_version", { simple: true }));
    if (version > SCHEMA_VERSION) {
      db.close();
      return { problem: "newer" };
    }
    if (db.pragma("quick_check", { simple: true }) !== "ok") throw new Error("quick_check failed");
    return { db };
  } catch {
    db?.close();
    return { problem: "corrupt" };
  }
}

/** Open (or create) the journal at `file`, migrated to SCHEMA_VERSION; a bad one is moved aside first. */
export function openJournalDb(file: string, log: Logger): Database.Database {
  let opened = tryOpen(file);
  if ("problem" in opened) {
    moveAside(file, opened.problem, log);
    opened = tryOpen(file);
    if ("problem" in opened) throw new Error(`cannot create the journal at ${file}`);
  }
  const db = opened.db;
  chmodSync(file, 0o600);
  db.pragma("synchronous = NORMAL");
  // Checkpoints are the journal's own, once a second off the commit path (journal.ts SWEEP_MS).
  db.pragma("wal_autocheckpoint = 0");
  db.pragma("foreign_keys = OFF");
  const from = Number(db.pragma("user_version", { simple: true }));
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  return db;
}
