/**
 * The journal's writes (journal.ts, rows.ts) against a real SQLite file, reopened as a restarted
 * daemon would: what a task's changes collapse into, and what a new process reads back.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.js";
import { Journal } from "../../src/local/journal/journal.js";
import { statementsOf, type Row } from "../../src/local/journal/rows.js";
import type { TaskEvent } from "../../src/upstream/task.js";
import { Cleanup } from "../helpers/cleanup.js";
import { tempDir } from "../helpers/daemon.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function open(file: string): Journal {
  return cleanup.add(new Journal(file, { inputMaxBytes: 64, now: Date.now, log: silentLogger }), (j) => j.close());
}

/** A task accepted by `j`; returns the function that plays its handle's events. */
function accept(j: Journal, taskUUID: string = randomUUID(), text?: string): { taskUUID: string; emit: (ev: TaskEvent) => void } {
  let listener: ((ev: TaskEvent) => void) | undefined;
  const body = text ?? JSON.stringify({ taskType: "imageInference", taskUUID, positivePrompt: "a lighthouse at dusk" });
  j.accepted(
    { taskUUID, taskType: "imageInference", text: body, client: "http:1", label: "batch.mjs", costHidden: true, passthrough: false },
    {
      subscribe: (l) => {
        listener = l;
        return () => {};
      },
    },
  );
  return { taskUUID, emit: (ev) => listener!(ev) };
}

const item = (taskUUID: string, n: number) => ({ taskType: "imageInference", taskUUID, imageUUID: randomUUID(), seed: n });
const done = (taskUUID: string, data: ReturnType<typeof item>[]): TaskEvent => ({
  type: "final",
  outcome: { taskUUID, taskType: "imageInference", state: "done", data, errors: [] },
});
const count = (file: string, table: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
};

describe("journal rows - what is written, and what a restart reads back", () => {
  it("journal rows - an unfinished task comes back with its phase and every item received, in order", () => {
    const file = join(tempDir(cleanup, "rwd-jrows-"), "j.sqlite");
    const j = open(file);
    const t = accept(j);
    j.moved(t.taskUUID, "sent");
    const items = [item(t.taskUUID, 1), item(t.taskUUID, 2)];
    j.flush();
    t.emit({ type: "data", item: items[0]! });
    j.flush();
    t.emit({ type: "data", item: items[1]! });
    j.close();

    const again = open(file);
    const [u, ...rest] = again.unfinished();
    expect(rest).toEqual([]);
    expect(u).toMatchObject({
      taskUUID: t.taskUUID,
      phase: "sent",
      sent: true,
      acked: false,
      data: items,
      label: "batch.mjs",
      costHidden: true,
    });
  });

  it("journal rows - a task accepted and finished between two commits is one row with its outcome, its label and no items", () => {
    const file = join(tempDir(cleanup, "rwd-jrows-"), "j.sqlite");
    const j = open(file);
    const t = accept(j);
    j.moved(t.taskUUID, "sent");
    const data = [item(t.taskUUID, 1)];
    t.emit({ type: "data", item: data[0]! });
    t.emit(done(t.taskUUID, data));
    j.close();
    expect(count(file, "tasks")).toBe(1);
    expect(count(file, "items")).toBe(0);

    const again = open(file);
    expect(again.unfinished()).toEqual([]);
    const [f] = again.finishedSince(0);
    expect(f?.outcome).toMatchObject({ taskUUID: t.taskUUID, state: "done", data, label: "batch.mjs" });
  });

  it("journal rows - items written while a task ran are deleted when it ends; a large input is dropped, a small one kept", () => {
    const file = join(tempDir(cleanup, "rwd-jrows-"), "j.sqlite");
    let j = open(file);
    const big = accept(j, randomUUID(), JSON.stringify({ taskType: "imageInference", prompt: "x".repeat(200) }));
    const small = accept(j, randomUUID(), "{}");
    j.flush();
    big.emit({ type: "data", item: item(big.taskUUID, 1) });
    j.close(); // the file is the journal's alone while it is open (EXCLUSIVE)
    expect(count(file, "items")).toBe(1);

    j = open(file);
    j.unfinished(); // as at start: the rows are the journal's again
    const data = [item(big.taskUUID, 1)];
    accept(j, big.taskUUID).emit(done(big.taskUUID, data)); // adopted: the engine follows it again
    accept(j, small.taskUUID).emit(done(small.taskUUID, []));
    j.close();
    expect(count(file, "items")).toBe(0);
    const db = new Database(file, { readonly: true });
    const inputs = db.prepare("SELECT uuid, input FROM tasks ORDER BY id").all();
    db.close();
    expect(inputs).toEqual([
      { uuid: big.taskUUID, input: null },
      { uuid: small.taskUUID, input: "{}" },
    ]);
  });

  it("journal rows - a forgotten task leaves the file at the next sweep; one forgotten before it finished leaves once it has", () => {
    const file = join(tempDir(cleanup, "rwd-jrows-"), "j.sqlite");
    const j = open(file);
    const a = accept(j);
    const b = accept(j);
    a.emit(done(a.taskUUID, []));
    j.flush();
    j.forget(a.taskUUID);
    j.forget(b.taskUUID); // the result store let it go first (evicted at once, too large)
    j.flush();
    b.emit(done(b.taskUUID, []));
    j.close();
    expect(count(file, "tasks")).toBe(0);
    const again = open(file);
    expect(again.finishedSince(0)).toEqual([]);
    expect(again.unfinished()).toEqual([]);
  });

  it("journal rows - the same UUID accepted again after it finished replaces the old row", () => {
    const file = join(tempDir(cleanup, "rwd-jrows-"), "j.sqlite");
    const j = open(file);
    const first = accept(j);
    first.emit(done(first.taskUUID, [item(first.taskUUID, 1)]));
    j.flush();
    const second = accept(j, first.taskUUID);
    j.close();
    expect(count(file, "tasks")).toBe(1);
    const again = open(file);
    expect(again.finishedSince(0)).toEqual([]);
    expect(again.unfinished().map((u) => u.taskUUID)).toEqual([second.taskUUID]);
  });

  it("journal rows - statementsOf: a row forgotten before its first commit costs nothing", () => {
    const row: Row = {
      id: 1,
      taskUUID: randomUUID(),
      phase: "queued",
      sent: false,
      acked: false,
      final: true,
      itemsStored: false,
      nextSeq: 0,
    };
    const fresh = { taskType: "imageInference", client: "c", label: "l", costHidden: false, input: "{}", inputBytes: 2, acceptedAt: 1 };
    expect(statementsOf({ row, insert: fresh, forget: true, items: [] })).toEqual([]);
    expect(statementsOf({ row: { ...row, itemsStored: true }, forget: true, items: [] }).map((s) => s.op)).toEqual(["delete", "dropItems"]);
    expect(statementsOf({ row, moved: true, items: [{ seq: 0, item: item(row.taskUUID, 1) }] }).map((s) => s.op)).toEqual(["move", "item"]);
  });
});
