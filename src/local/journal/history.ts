/**
 * The history kept in the journal (issue 16): a `history` table in the same database, each entry
 * written in the commit that records its task's finish (Journal.writeAlong), the budget in `meta`.
 * Reads commit what is pending first, so an entry is readable as soon as its task has answered.
 * Entries' JSON is kept within `maxBytes` (historyMaxBytes, UTF-8 bytes): past it the oldest lose
 * their JSON (set to '', gone from lists) but keep the row's time, label and cost, so spend and
 * the budget stay whole.
 */
import type Database from "better-sqlite3";
import type { HistoryEntry } from "../../protocol/history.js";
import type { BudgetRule } from "../ledger/budget.js";
import type { SpendItem } from "../ledger/spend.js";
import type { HistoryFilter, LedgerStore } from "../ledger/store.js";
import type { Journal } from "./journal.js";

export class JournalHistory implements LedgerStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly remove: Database.Statement;
  private id: number;
  /** UTF-8 bytes of entry JSON the table holds. */
  private bytes: number;
  private readonly sizeOf: Database.Statement;

  constructor(
    private readonly journal: Journal,
    private readonly maxBytes: number,
  ) {
    this.db = journal.database;
    this.insert = this.db.prepare(
      "INSERT INTO history (id, task_uuid, finished_at, label, task_type, cost, uncosted, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.remove = this.db.prepare("DELETE FROM history WHERE id = ?");
    const last = this.db.prepare("SELECT max(id) FROM history").pluck().get() as number | null;
    this.id = (last ?? 0) + 1;
    this.bytes = this.db.prepare("SELECT total(length(CAST(entry AS BLOB))) FROM history").pluck().get() as number;
    this.sizeOf = this.db.prepare("SELECT length(CAST(entry AS BLOB)) FROM history WHERE id = ?").pluck();
  }

  nextId(): number {
    return this.id;
  }

  append(e: HistoryEntry, json: string, finishedAt: number, replaces?: number): void {
    this.id = e.id + 1;
    this.bytes += Buffer.byteLength(json);
    const trim = this.bytes > this.maxBytes;
    this.journal.writeAlong(() => {
      if (replaces !== undefined) {
        this.bytes -= (this.sizeOf.get(replaces) as number | undefined) ?? 0;
        this.remove.run(replaces);
      }
      this.insert.run(e.id, e.taskUUID, finishedAt, e.label, e.taskType, e.cost ?? null, e.uncosted ?? null, json);
      if (trim) this.trim();
    });
  }

  /** The oldest entries' JSON goes until a tenth of the budget is free again (so this runs rarely). */
  private trim(): void {
    const target = this.maxBytes * 0.9;
    let cut: number | undefined;
    for (const r of this.db
      .prepare("SELECT id, length(CAST(entry AS BLOB)) AS n FROM history WHERE entry <> '' ORDER BY id")
      .iterate() as Iterable<{
      id: number;
      n: number;
    }>) {
      if (this.bytes <= target) break;
      this.bytes -= r.n;
      cut = r.id;
    }
    if (cut !== undefined) this.db.prepare("UPDATE history SET entry = '' WHERE id <= ? AND entry <> ''").run(cut);
  }

  page(f: HistoryFilter): HistoryEntry[] {
    this.journal.flush();
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (clause: string, v: string | number | undefined): void => {
      if (v === undefined) return;
      where.push(clause);
      args.push(v);
    };
    add("finished_at >= ?", f.since);
    add("finished_at < ?", f.until);
    add("label = ?", f.label);
    add("task_type = ?", f.taskType);
    add("id < ?", f.beforeId);
    where.push("entry <> ''");
    const sql = `SELECT entry FROM history WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`;
    const rows = this.db
      .prepare(sql)
      .pluck()
      .all(...args, f.limit) as string[];
    return rows.map((r) => JSON.parse(r) as HistoryEntry);
  }

  find(taskUUID: string): HistoryEntry | undefined {
    this.journal.flush();
    const row = this.db
      .prepare("SELECT entry FROM history WHERE task_uuid = ? AND entry <> '' ORDER BY id DESC LIMIT 1")
      .pluck()
      .get(taskUUID) as string | undefined;
    return row === undefined ? undefined : (JSON.parse(row) as HistoryEntry);
  }

  spendSince(since: number): SpendItem[] {
    const rows = this.db
      .prepare(
        "SELECT finished_at, label, cost, uncosted FROM history WHERE finished_at >= ? AND (cost IS NOT NULL OR uncosted IS NOT NULL) ORDER BY id",
      )
      .iterate(since) as Iterable<{ finished_at: number; label: string; cost: number | null; uncosted: SpendItem["uncosted"] | null }>;
    const items: SpendItem[] = [];
    for (const r of rows) items.push({ at: r.finished_at, label: r.label, cost: r.cost ?? undefined, uncosted: r.uncosted ?? undefined });
    return items;
  }

  savedBudget(): BudgetRule | undefined {
    const raw = this.db.prepare("SELECT value FROM meta WHERE key = 'budget'").pluck().get() as string | undefined;
    if (raw === undefined) return undefined;
    try {
      const r = JSON.parse(raw) as Partial<BudgetRule>;
      return typeof r.usd === "number" && typeof r.windowMs === "number" ? { usd: r.usd, windowMs: r.windowMs } : undefined;
    } catch {
      return undefined;
    }
  }

  saveBudget(rule: BudgetRule | undefined): void {
    if (rule === undefined) this.db.prepare("DELETE FROM meta WHERE key = 'budget'").run();
    else {
      this.db
        .prepare("INSERT INTO meta (key, value) VALUES ('budget', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .run(JSON.stringify(rule));
    }
  }

  prune(before: number): void {
    this.journal.flush();
    this.bytes -= this.db
      .prepare("SELECT total(length(CAST(entry AS BLOB))) FROM history WHERE finished_at < ?")
      .pluck()
      .get(before) as number;
    this.db.prepare("DELETE FROM history WHERE finished_at < ?").run(before);
  }
}
