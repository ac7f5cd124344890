/**
 * The ledger (issue 16; docs/local-api.md §2.10): every finished task becomes a history entry
 * (entry.ts) kept in the journal or in memory (store.ts), its cost goes into spend (spend.ts), and
 * the budget (budget.ts) refuses new paid work once spend over its window has reached the cap.
 * The budget and the spend survive restarts with the journal: spend is summed again from the
 * history at start, and the budget is kept in the journal's meta.
 */
import { EventEmitter } from "eventemitter3";
import type { RunwareErrorObject } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { HistoryEntry, HistoryPage } from "../../protocol/history.js";
import type { UpstreamEngine } from "../../upstream/engine.js";
import type { TaskOutcome } from "../../upstream/task.js";
import { Budget, type BudgetExceededError, type BudgetRule, type BudgetStatus } from "./budget.js";
import { entryOf, summaryOf } from "./entry.js";
import { Spend, type SpendItem, type SpendWindow } from "./spend.js";
import { MemoryLedgerStore, type HistoryFilter, type LedgerStore } from "./store.js";

const HOUR = 3_600_000;
/**
 * An entry's JSON is kept up to this size; past it its results, then its input, are left out
 * (`truncated`). Strings are shortened already (entry.ts); this bounds one of many small ones.
 */
const MAX_ENTRY_CHARS = 64 * 1024;
const DAY = 24 * HOUR;
/** Old entries are deleted at start and this often. */
const PRUNE_EVERY_MS = HOUR;

export interface LedgerConfig {
  /** A number: this cap (kept in the journal); "off": none (and the kept one cleared); undefined: the journal's. */
  budgetUsd: number | "off" | undefined;
  budgetWindowMs: number;
  historyRetentionMs: number;
  historyMemoryBytes: number;
}

/** Spend as `GET /v1/status` shows it. */
export interface SpendStatus {
  currency: "USD";
  lastHour: SpendWindow;
  lastDay: SpendWindow;
  last30Days: SpendWindow;
  budget?: BudgetStatus;
}

export interface LedgerEvents {
  /** A finished task's entry, as kept; `async`: it was sent with deliveryMethod async (metrics, the event stream). */
  recorded: [entry: HistoryEntry, async: boolean];
  /** Spend crossed 80 % of the budget. */
  budgetWarning: [spentUsd: number, rule: BudgetRule];
}

export class Ledger extends EventEmitter<LedgerEvents> {
  private store: LedgerStore;
  private readonly spend = new Spend();
  private budget: Budget | undefined;
  /** The task as sent and when, from acceptance to its end (bounded by the engine's pending tasks). */
  private readonly started = new Map<string, { text: string; at: number }>();
  /** Acceptance times of tasks being taken up again at start (acceptedEarlier), until their `accepted`. */
  private readonly earlier = new Map<string, number>();
  private readonly pruner: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    engine: UpstreamEngine,
    private readonly cfg: LedgerConfig,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.log = logger.child({ mod: "ledger" });
    this.store = new MemoryLedgerStore(cfg.historyMemoryBytes);
    this.useBudget(typeof cfg.budgetUsd === "number" ? { usd: cfg.budgetUsd, windowMs: cfg.budgetWindowMs } : undefined);
    engine.on("accepted", (t) => {
      const at = this.earlier.get(t.taskUUID) ?? this.now();
      this.earlier.delete(t.taskUUID);
      if (t.passthrough) return;
      this.started.set(t.taskUUID, { text: t.text, at });
    });
    engine.on("settled", (o) => {
      if (o.taskType !== "getResponse") this.finished(o);
    });
    this.pruner = setInterval(() => this.prune(), PRUNE_EVERY_MS).unref();
  }

  /** Keep the history in the journal from now on: spend summed again from it, the budget resolved with it. */
  attach(store: LedgerStore): void {
    this.store = store;
    this.prune();
    const since = this.now() - this.cfg.historyRetentionMs;
    for (const item of store.spendSince(since)) this.spend.add(item);
    let rule: BudgetRule | undefined;
    if (typeof this.cfg.budgetUsd === "number") {
      rule = { usd: this.cfg.budgetUsd, windowMs: this.cfg.budgetWindowMs };
      store.saveBudget(rule);
    } else if (this.cfg.budgetUsd === "off") store.saveBudget(undefined);
    else {
      rule = store.savedBudget();
      if (rule)
        this.log.info(
          { budgetUsd: rule.usd, windowMs: rule.windowMs },
          `budget: $${rule.usd} per ${rule.windowMs / HOUR} h, kept from before the restart`,
        );
    }
    this.useBudget(rule);
  }

  /** A task a previous daemon accepted at `at`, about to be taken up again: its entry keeps that time. */
  acceptedEarlier(taskUUID: string, at: number): void {
    this.earlier.set(taskUUID, at);
  }

  /** A journaled task that could not be taken up again ends failed without the engine: its entry still is made. */
  abandoned(u: { taskUUID: string; taskType: string; label: string; text: string; acceptedAt?: number }, error: RunwareErrorObject): void {
    this.earlier.delete(u.taskUUID);
    this.started.set(u.taskUUID, { text: u.text, at: u.acceptedAt ?? this.now() });
    this.finished({ taskUUID: u.taskUUID, taskType: u.taskType, label: u.label, state: "failed", data: [], errors: [error] });
  }

  /** Why a batch is refused (402 budgetExceeded), or undefined. */
  admissionError(tasks: ReadonlyArray<{ taskType: string }>): BudgetExceededError | undefined {
    return this.budget?.check(
      tasks.map((t) => t.taskType),
      this.now(),
    );
  }

  page(f: HistoryFilter): HistoryPage {
    // One more than asked tells whether another page follows.
    const entries = this.store.page({ ...f, limit: f.limit + 1 });
    const more = entries.length > f.limit;
    const shown = entries.slice(0, f.limit).map(summaryOf);
    const last = shown[shown.length - 1];
    return more && last ? { entries: shown, nextCursor: String(last.id) } : { entries: shown };
  }

  find(taskUUID: string): HistoryEntry | undefined {
    return this.store.find(taskUUID);
  }

  status(): SpendStatus {
    const now = this.now();
    const s: SpendStatus = {
      currency: "USD",
      lastHour: this.spend.window(now, HOUR),
      lastDay: this.spend.window(now, DAY),
      last30Days: this.spend.window(now, 30 * DAY),
    };
    if (this.budget) s.budget = this.budget.status(now);
    return s;
  }

  close(): void {
    clearInterval(this.pruner);
  }

  private useBudget(rule: BudgetRule | undefined): void {
    this.budget = rule ? new Budget(rule, this.spend) : undefined;
    this.budget?.added(this.now());
  }

  /** Never throws: it runs inside the engine's settle (a throw there would lose the task's result). */
  private finished(o: TaskOutcome): void {
    try {
      this.record(o);
    } catch (err) {
      this.log.error({ err, taskUUID: o.taskUUID }, "a finished task could not be put in the history");
    }
  }

  private record(o: TaskOutcome): void {
    const start = this.started.get(o.taskUUID);
    this.started.delete(o.taskUUID);
    const finishedAt = this.now();
    // Asked about again after it ended in doubt (engine.reopen): its entry is replaced, its spend counted once.
    const before = start ? undefined : this.store.find(o.taskUUID);
    const text = start?.text ?? (before?.input ? JSON.stringify(before.input) : undefined);
    const acceptedAt = start?.at ?? (before ? Date.parse(before.acceptedAt) : finishedAt);
    const entry = entryOf({ id: this.store.nextId(), outcome: o, text, acceptedAt, finishedAt });
    this.store.append(entry, fitted(entry), finishedAt, before?.id);
    if (before) this.spend.add(spendItem(before, Date.parse(before.finishedAt)), -1);
    if (entry.cost !== undefined || entry.uncosted !== undefined) this.spend.add(spendItem(entry, finishedAt));
    // Spend first: a listener that throws (metrics, events) must not leave the budget behind.
    this.emit("recorded", entry, entry.input?.["deliveryMethod"] === "async");
    if (entry.cost === undefined && entry.uncosted === undefined) return;
    const near = this.budget?.added(finishedAt);
    if (near !== undefined && this.budget) {
      const { usd, windowMs } = this.budget.rule;
      this.log.warn({ spentUsd: near, budgetUsd: usd, windowMs }, `spend has reached $${near} of the $${usd} budget (80 % or more)`);
      this.emit("budgetWarning", near, this.budget.rule);
    }
  }

  private prune(): void {
    try {
      this.store.prune(this.now() - this.cfg.historyRetentionMs);
    } catch (err) {
      this.log.error({ err }, "old history entries could not be deleted");
    }
  }
}

function spendItem(e: HistoryEntry, at: number): SpendItem {
  return { at, label: e.label, cost: e.cost, uncosted: e.uncosted };
}

/** The entry's JSON within MAX_ENTRY_CHARS: its results and then its input go first. */
function fitted(entry: HistoryEntry): string {
  let json = JSON.stringify(entry);
  if (json.length <= MAX_ENTRY_CHARS) return json;
  entry.data = [];
  entry.truncated = true;
  json = JSON.stringify(entry);
  if (json.length <= MAX_ENTRY_CHARS) return json;
  delete entry.input;
  return JSON.stringify(entry);
}
