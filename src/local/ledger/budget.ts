/**
 * The budget (issue 16; docs/local-api.md §2.10): once spend over the window has reached the cap,
 * new tasks that cost money are refused (402 budgetExceeded). Cost is known only when a task ends,
 * so tasks accepted before that still run, and spend can pass the cap by at most what was
 * accepted. Free tasks (model search, account, uploads, getResponse, ping) still run: they are how
 * a user finds out what happened. Pure: the clock is passed in.
 */
import { RunwareDaemonError } from "../../errors.js";
import { reportsCost } from "../../protocol/cost.js";
import { formatDuration } from "../../util/duration.js";
import type { Spend } from "./spend.js";

export interface BudgetRule {
  readonly usd: number;
  readonly windowMs: number;
}

/** A warning once spend reaches this share of the cap (logged once per crossing). */
export const WARN_AT = 0.8;

export class BudgetExceededError extends RunwareDaemonError {
  constructor(
    readonly spentUsd: number,
    readonly rule: BudgetRule,
    readonly freesAt: number,
  ) {
    super(
      "budgetExceeded",
      `the daemon's budget is spent: $${spentUsd} of $${rule.usd} in the last ${formatDuration(rule.windowMs)}; ` +
        `new tasks are refused until ${new Date(freesAt).toISOString()} (or restart with a higher --budget-usd, or --budget-usd off)`,
    );
  }
}

export interface BudgetStatus {
  usd: number;
  window: string;
  windowMs: number;
  spentUsd: number;
  /** New paid tasks are refused now. */
  refusing: boolean;
  /** With `refusing`: when the window frees up (ISO 8601), if nothing more is spent. */
  freesAt?: string;
}

/** How often a refusing budget looks again whether its window has freed up. */
const RECHECK_MS = 1_000;

export class Budget {
  private warned = false;
  /** Spend had reached the cap when last looked at (spend only grows by `added`; time only frees it). */
  private over = false;
  private lookedAt = 0;

  constructor(
    readonly rule: BudgetRule,
    private readonly spend: Spend,
  ) {}

  /** Why a batch is refused now, or undefined; a batch with no task that costs money always runs. */
  check(taskTypes: readonly string[], now: number): BudgetExceededError | undefined {
    if (!this.over || !taskTypes.some(reportsCost)) return undefined;
    const spent = now - this.lookedAt >= RECHECK_MS ? this.look(now) : undefined;
    if (!this.over) return undefined;
    return new BudgetExceededError(
      spent ?? this.spend.window(now, this.rule.windowMs).usd,
      this.rule,
      this.spend.freesAt(now, this.rule.windowMs, this.rule.usd),
    );
  }

  /** Spend grew: returns the spend to warn about when it has just crossed WARN_AT of the cap (once per crossing). */
  added(now: number): number | undefined {
    const spent = this.look(now);
    const near = spent >= this.rule.usd * WARN_AT;
    const first = near && !this.warned;
    this.warned = near;
    return first ? spent : undefined;
  }

  private look(now: number): number {
    const spent = this.spend.window(now, this.rule.windowMs).usd;
    this.over = spent >= this.rule.usd;
    this.lookedAt = now;
    return spent;
  }

  status(now: number): BudgetStatus {
    const spentUsd = this.look(now);
    const s: BudgetStatus = {
      usd: this.rule.usd,
      window: formatDuration(this.rule.windowMs),
      windowMs: this.rule.windowMs,
      spentUsd,
      refusing: this.over,
    };
    if (this.over) s.freesAt = new Date(this.spend.freesAt(now, this.rule.windowMs, this.rule.usd)).toISOString();
    return s;
  }
}
