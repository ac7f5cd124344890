/**
 * What every client saw of every task, and what the engine settled, side by side: the record the
 * invariants are checked against. A client reports a task's final answer with `final()`; the engine's
 * `settled` event goes to `engineSettled()`. Nothing here judges; invariants.ts does.
 */
import type { RunwareErrorObject } from "../../src/errors.js";
import type { TaskOutcome } from "../../src/upstream/task.js";

export type Via = "direct" | "http" | "ndjson" | "ws";
export type FinalState = "done" | "failed" | "in-doubt";

export interface TaskRec {
  uuid: string;
  client: string;
  via: Via;
  /** numberResults asked for. */
  n: number;
  async: boolean;
  /** performance.now() when the client sent it, and when its first final answer arrived. */
  submittedAt: number;
  settledAt: number | undefined;
  /** Final answers the client received (must be exactly 1). */
  finals: number;
  state: FinalState | undefined;
  /** imageUUIDs as the client received them, duplicates kept. */
  items: string[];
  errors: RunwareErrorObject[];
}

export interface EngineRec {
  settles: number;
  state: TaskOutcome["state"];
  imageUUIDs: string[];
  errors: RunwareErrorObject[];
}

export interface ClientView {
  state: FinalState;
  items: string[];
  errors: RunwareErrorObject[];
}

export class Ledger {
  readonly tasks = new Map<string, TaskRec>();
  readonly engine = new Map<string, EngineRec>();
  /** Client-side problems that are not about one known task (an unknown UUID in an answer, a bad status...). */
  readonly anomalies: string[] = [];
  /** Answers (HTTP bodies, NDJSON lines, WS frames) in which a secret appeared. */
  secretHits = 0;
  /** Tasks with at least one final answer. */
  settled = 0;
  private readonly waiters = new Set<() => void>();
  private released = false;

  add(rec: Omit<TaskRec, "finals" | "state" | "items" | "errors" | "settledAt">): TaskRec {
    const full: TaskRec = { ...rec, finals: 0, state: undefined, items: [], errors: [], settledAt: undefined };
    if (this.tasks.has(rec.uuid)) this.anomaly(`${rec.client}: taskUUID ${rec.uuid} submitted twice by the workload`);
    this.tasks.set(rec.uuid, full);
    return full;
  }

  final(uuid: string, view: ClientView, at = performance.now()): void {
    const t = this.tasks.get(uuid);
    if (!t) {
      this.anomaly(`a final answer for ${uuid}, which no client submitted`);
      return;
    }
    t.finals++;
    if (t.finals > 1) return; // counted; the first answer is the one judged
    t.settledAt = at;
    t.state = view.state;
    t.items = view.items;
    t.errors = view.errors;
    this.settled++;
    for (const w of this.waiters) w();
  }

  engineSettled(o: TaskOutcome): void {
    const rec = this.engine.get(o.taskUUID);
    if (rec) {
      rec.settles++;
      return;
    }
    const imageUUIDs = o.data.map((d) => d["imageUUID"]).filter((u): u is string => typeof u === "string");
    this.engine.set(o.taskUUID, { settles: 1, state: o.state, imageUUIDs, errors: [...o.errors] });
  }

  anomaly(text: string): void {
    this.anomalies.push(text);
  }

  scan(text: string, secrets: readonly string[]): void {
    if (secrets.some((s) => text.includes(s))) this.secretHits++;
  }

  /** Resolves once `settled >= n` (checked whenever a task settles). */
  whenSettled(n: number): Promise<void> {
    if (this.settled >= n || this.released) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.settled >= n || this.released) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
    });
  }

  /** Wake every waiter (the workload ended: nothing more will settle). */
  release(): void {
    this.released = true;
    for (const w of this.waiters) w();
  }

  /** Forget these tasks (the soak checks tasks in chunks and must not keep them all). */
  prune(uuids: Iterable<string>): void {
    for (const u of uuids) {
      this.tasks.delete(u);
      this.engine.delete(u);
    }
  }

  unsettled(): TaskRec[] {
    return [...this.tasks.values()].filter((t) => t.finals === 0);
  }
}

/** The final state a list of errors means (an in-doubt error wins: it says the most). */
export function stateOfErrors(errors: readonly RunwareErrorObject[]): FinalState {
  if (errors.length === 0) return "done";
  return errors.some((e) => e.code === "taskInDoubt") ? "in-doubt" : "failed";
}

export function imageUUIDsOf(items: readonly Record<string, unknown>[]): string[] {
  return items.map((d) => d["imageUUID"]).filter((u): u is string => typeof u === "string");
}
