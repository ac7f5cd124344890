/**
 * Switchable failures: task errors (a task fails with a chosen code instead of producing results,
 * e.g. the transient `timeoutProvider` of docs/protocol.md §5.2) and authentication failures
 * (dropped connection or `internalServerError`).
 */
import type { Rng } from "./rng.js";

export interface ErrorRule {
  /** Runware error code the task fails with, e.g. "timeoutProvider". */
  code: string;
  /** Fail the next `count` matching tasks, then the rule is spent. */
  count?: number;
  /** Probability that a matching task fails (0–1). With `count`, at most `count` tasks fail. */
  rate?: number;
  /** Only tasks of these types (default: every task type). */
  taskTypes?: string[];
}

export type AuthFailureMode = "drop" | "error";

export class ErrorInjector {
  private rules: ErrorRule[] = [];

  /** Adds a rule; with neither `count` nor `rate` it fails exactly the next matching task. */
  add(rule: ErrorRule): void {
    const normalized = { ...rule, taskTypes: rule.taskTypes ? [...rule.taskTypes] : undefined };
    if (normalized.count === undefined && normalized.rate === undefined) normalized.count = 1;
    this.rules.push(normalized);
  }

  clear(): void {
    this.rules = [];
  }

  /** The code this task must fail with, if any rule fires. The first firing rule wins. */
  take(taskType: string, rng: Rng): string | undefined {
    for (const rule of this.rules) {
      if (rule.taskTypes && !rule.taskTypes.includes(taskType)) continue;
      if (rule.rate !== undefined && !rng.chance(rule.rate)) continue;
      if (rule.count !== undefined) {
        rule.count -= 1;
        if (rule.count <= 0) this.rules = this.rules.filter((r) => r !== rule);
      }
      return rule.code;
    }
    return undefined;
  }
}

/** Test hook: the next `count` result items carry a field nested `depth` arrays deep (wire.ts). */
export class DeepResults {
  private remaining = 0;
  private depth = 0;

  /** Replaces any earlier setting; count 0 clears. */
  arm(depth: number, count: number): void {
    this.depth = depth;
    this.remaining = count;
  }

  /** The depth for the next result item, if it is to be nested. */
  take(): number | undefined {
    if (this.remaining <= 0) return undefined;
    this.remaining -= 1;
    return this.depth;
  }
}

export class AuthFaults {
  private remaining = 0;
  private mode: AuthFailureMode = "drop";

  /** The next `n` authentications fail in `mode` (replaces any earlier setting; 0 clears). */
  failNext(n: number, mode: AuthFailureMode): void {
    this.remaining = n;
    this.mode = mode;
  }

  take(): AuthFailureMode | undefined {
    if (this.remaining <= 0) return undefined;
    this.remaining -= 1;
    return this.mode;
  }
}

/** `failModelUploads`: the next `count` modelUploads end on `status` (Runware's CLI sees e.g. "error downloading"). */
export interface ModelUploadFailure {
  status: string;
  message: string;
  count?: number;
}

export class ModelUploadFaults {
  private rule: Required<ModelUploadFailure> | undefined;

  /** Replaces any earlier setting; count 0 clears. */
  arm(failure: ModelUploadFailure): void {
    this.rule = { count: 1, ...failure };
    if (this.rule.count <= 0) this.rule = undefined;
  }

  take(): { status: string; message: string } | undefined {
    const rule = this.rule;
    if (!rule) return undefined;
    rule.count -= 1;
    if (rule.count <= 0) this.rule = undefined;
    return { status: rule.status, message: rule.message };
  }
}
