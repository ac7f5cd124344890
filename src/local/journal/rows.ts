/**
 * What the journal owes the database, gathered per task between two commits (pure; journal.ts
 * writes it). A task's changes in one turn collapse into the fewest statements: a task accepted and
 * finished between two commits is one INSERT of its final row; items of a task that finished
 * meanwhile are never written; an accepted task that is forgotten before its first commit is never
 * written at all. Rows are keyed by an id that grows with acceptance, so a commit touches the
 * newest pages of the table, not one random page per task (docs/reliability.md "The journal").
 */
import type { DataItem } from "../../protocol/schemas.js";
import type { Phase } from "../../upstream/lifecycle.js";

/** A task the journal holds a row for (unfinished, or finished and still retained). */
export interface Row {
  readonly id: number;
  readonly taskUUID: string;
  phase: Phase;
  sent: boolean;
  acked: boolean;
  final: boolean;
  /** Items of this row are in the database (so a finish or forget deletes them). */
  itemsStored: boolean;
  nextSeq: number;
  /** The result store let it go before the journal heard it finish: delete it when it does. */
  goneEarly?: true;
}

export interface NewRow {
  readonly taskType: string;
  readonly client: string;
  readonly label: string;
  readonly costHidden: boolean;
  readonly input: string;
  readonly inputBytes: number;
  readonly acceptedAt: number;
}

export interface Finish {
  readonly at: number;
  readonly outcome: string;
}

/** One row's pending change. */
export interface Change {
  readonly row: Row;
  insert?: NewRow;
  /** phase / sent / acked changed. */
  moved?: true;
  /** Serialized only if written (most end in the same commit, and never are). */
  items: Array<{ seq: number; item: DataItem }>;
  finish?: Finish;
  forget?: true;
}

/** Changes in the order rows first changed; a row appears once. */
export class PendingChanges {
  private readonly byId = new Map<number, Change>();

  get size(): number {
    return this.byId.size;
  }

  has(row: Row): boolean {
    return this.byId.has(row.id);
  }

  of(row: Row): Change {
    let c = this.byId.get(row.id);
    if (!c) {
      c = { row, items: [] };
      this.byId.set(row.id, c);
    }
    return c;
  }

  /** Everything pending, in order; the set is empty afterwards. */
  take(): Change[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }
}

/** The statements one change needs, given what is already stored (pure). */
export type Statement =
  | { op: "insert"; row: Row; fresh: NewRow; finish?: Finish }
  | { op: "move"; row: Row }
  | { op: "finish"; row: Row; finish: Finish }
  | { op: "item"; row: Row; seq: number; item: DataItem }
  | { op: "dropItems"; row: Row }
  | { op: "delete"; row: Row };

export function statementsOf(c: Change): Statement[] {
  const { row } = c;
  if (c.forget) {
    if (c.insert) return []; // never stored
    return row.itemsStored
      ? [
          { op: "delete", row },
          { op: "dropItems", row },
        ]
      : [{ op: "delete", row }];
  }
  const out: Statement[] = [];
  if (c.insert) out.push({ op: "insert", row, fresh: c.insert, ...(c.finish ? { finish: c.finish } : {}) });
  else if (c.finish) out.push({ op: "finish", row, finish: c.finish });
  else if (c.moved) out.push({ op: "move", row });
  if (c.finish) {
    if (row.itemsStored) out.push({ op: "dropItems", row });
  } else {
    for (const i of c.items) out.push({ op: "item", row, seq: i.seq, item: i.item });
  }
  return out;
}
