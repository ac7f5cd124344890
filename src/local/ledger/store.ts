/**
 * Where the history lives: the journal (journal/history.ts), or, with --no-journal, memory within
 * a byte budget (historyMemoryBytes, oldest dropped first). Both keep entries in finish order;
 * `id` grows with it, and pages are read newest first by id.
 */
import type { HistoryEntry } from "../../protocol/history.js";
import type { BudgetRule } from "./budget.js";
import type { SpendItem } from "./spend.js";

export interface HistoryFilter {
  /** Finished at or after (ms since the epoch). */
  since?: number;
  /** Finished before. */
  until?: number;
  label?: string;
  taskType?: string;
  /** Entries with an id below this (the cursor). */
  beforeId?: number;
  limit: number;
}

export interface LedgerStore {
  /** The id the next appended entry takes. */
  nextId(): number;
  /** `json`: the entry as written; `replaces`: the id of an earlier entry of the task that goes (ledger.ts). */
  append(entry: HistoryEntry, json: string, finishedAt: number, replaces?: number): void;
  /** Up to `limit` entries matching, newest first. */
  page(f: HistoryFilter): HistoryEntry[];
  /** The newest entry of that task. */
  find(taskUUID: string): HistoryEntry | undefined;
  /** What spend needs of every entry finished since then, oldest first. */
  spendSince(since: number): SpendItem[];
  /** The budget a previous run kept (journal only). */
  savedBudget(): BudgetRule | undefined;
  saveBudget(rule: BudgetRule | undefined): void;
  /** Entries finished before this go. */
  prune(before: number): void;
}

interface Held {
  readonly entry: HistoryEntry;
  readonly finishedAt: number;
  readonly bytes: number;
}

function matches(e: HistoryEntry, finishedAt: number, f: HistoryFilter): boolean {
  return (
    (f.since === undefined || finishedAt >= f.since) &&
    (f.until === undefined || finishedAt < f.until) &&
    (f.label === undefined || e.label === f.label) &&
    (f.taskType === undefined || e.taskType === f.taskType) &&
    (f.beforeId === undefined || e.id < f.beforeId)
  );
}

export class MemoryLedgerStore implements LedgerStore {
  /** Oldest first, from `head` on (the ones before it are dropped, compacted away now and then). */
  private held: Held[] = [];
  private head = 0;
  private bytes = 0;
  private id = 1;

  constructor(private readonly maxBytes: number) {}

  nextId(): number {
    return this.id;
  }

  append(entry: HistoryEntry, json: string, finishedAt: number, replaces?: number): void {
    this.id = entry.id + 1;
    if (replaces !== undefined) {
      const i = this.held.findIndex((h, at) => at >= this.head && h.entry.id === replaces);
      if (i >= 0) this.bytes -= (this.held.splice(i, 1)[0] as Held).bytes;
    }
    // Counted as it would be written: the JSON is what the journal keeps, and near what memory holds.
    this.held.push({ entry, finishedAt, bytes: json.length });
    this.bytes += json.length;
    while (this.bytes > this.maxBytes && this.head < this.held.length) this.bytes -= (this.held[this.head++] as Held).bytes;
    this.compact();
  }

  page(f: HistoryFilter): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = this.held.length - 1; i >= this.head && out.length < f.limit; i--) {
      const h = this.held[i] as Held;
      if (matches(h.entry, h.finishedAt, f)) out.push(h.entry);
    }
    return out;
  }

  find(taskUUID: string): HistoryEntry | undefined {
    for (let i = this.held.length - 1; i >= this.head; i--) if (this.held[i]?.entry.taskUUID === taskUUID) return this.held[i]?.entry;
    return undefined;
  }

  spendSince(): SpendItem[] {
    return []; // memory starts empty: spend is added as tasks finish
  }

  savedBudget(): BudgetRule | undefined {
    return undefined;
  }

  saveBudget(): void {}

  prune(before: number): void {
    while (this.head < this.held.length && (this.held[this.head] as Held).finishedAt < before)
      this.bytes -= (this.held[this.head++] as Held).bytes;
    this.compact();
  }

  /** Dropped entries are cut off once they are half the array: each append costs O(1) on average, not a copy. */
  private compact(): void {
    if (this.head > 0 && this.head * 2 >= this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
  }
}
