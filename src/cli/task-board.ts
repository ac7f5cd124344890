/**
 * The live lines of a one-shot verb (`run`, `video`, `text-to-image`, ...): one per task, fed by
 * the client's stream hooks (progress, results, errors; client RunOptions), drawn by progress.ts.
 * A task is done when it has the results its kind yields (protocol/expect.ts), failed on an error.
 */
import type { ResultItem, RunOptions, RunwareError, TaskInput } from "../client/index.js";
import { endOf, expectedResults, type Expectation } from "../protocol/expect.js";
import { Board, renderTaskLine, type BoardMode, type ProgressStream, type TaskLine } from "./progress.js";

interface Entry {
  line: TaskLine;
  expect: Expectation;
  items: ResultItem[];
}

export class TaskBoard {
  private readonly entries = new Map<string, Entry>();
  private readonly board: Board;

  /** `tasks` must carry their taskUUIDs (the board follows them by UUID). */
  constructor(
    tasks: ReadonlyArray<TaskInput & { taskUUID: string }>,
    stream: ProgressStream,
    mode: BoardMode,
    private readonly now: () => number = Date.now,
  ) {
    const at = now();
    for (const t of tasks) {
      const expect = expectedResults(t);
      const expected = expect.kind === "count" ? expect.count : undefined;
      this.entries.set(t.taskUUID, {
        line: { taskType: t.taskType, startedAt: at, results: 0, state: "running", ...(expected ? { expected } : {}) },
        expect,
        items: [],
      });
    }
    this.board = new Board(stream, mode, (n) => [...this.entries].map(([uuid, e]) => [uuid, renderTaskLine(e.line, n)]), now);
    this.board.draw();
  }

  /** The client hooks that feed it. */
  hooks(): Pick<RunOptions, "onProgress" | "onResult" | "onError"> {
    return {
      onProgress: (item) => this.update(item.taskUUID, (e) => (e.line.progress = item.progress)),
      onResult: (item) =>
        this.update(item.taskUUID, (e) => {
          e.items.push(item);
          e.line.results = e.items.length;
          const end = endOf(e.expect, e.items);
          if (end) this.end(e, end.state);
        }),
      onError: (error: RunwareError) => {
        if (error.taskUUID) this.update(error.taskUUID, (e) => this.end(e, "failed"));
      },
    };
  }

  close(): void {
    this.board.close();
  }

  private end(e: Entry, state: "done" | "failed"): void {
    if (e.line.state !== "running") return;
    e.line.state = state;
    e.line.endedAt = this.now();
  }

  private update(uuid: string, change: (e: Entry) => void): void {
    const e = this.entries.get(uuid);
    if (!e) return;
    change(e);
    this.board.draw();
  }
}
