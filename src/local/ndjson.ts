/**
 * The NDJSON stream of `POST /v1` (docs/local-api.md §2.2): one line per result item or
 * acknowledgement, one error line per task that ends with errors, then exactly one done line whose
 * counts are those of the lines actually sent. An item that cannot be encoded is not sent: its task
 * gets an `invalidResponse` error in its error line and counts as failed. A reader that does not
 * keep up is not written to past its budget (unsent.ts): it gets one last `clientTooSlow` error
 * line naming every task it has not had the end of, and the stream ends; the tasks keep running
 * and stay readable by UUID.
 */
import type { ServerResponse } from "node:http";
import type { RunwareErrorObject } from "../errors.js";
import type { WarnLogger } from "../log.js";
import type { TaskOutcome } from "../upstream/task.js";
import { encode, unencodable } from "./encode.js";
import { CLIENT_TOO_SLOW_CODE, type LocalClient, type UnsentBudget } from "./unsent.js";

interface TaskRef {
  taskUUID: string;
  taskType: string;
}

export class NdjsonWriter implements LocalClient {
  private results = 0;
  /** Each task's state as this reader was told it (an unencodable item makes a done task failed). */
  private readonly told: Array<TaskOutcome["state"] | undefined>;
  private readonly unencoded: Array<RunwareErrorObject[] | undefined>;
  private cutReason: string | undefined;
  private grace: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly tasks: readonly TaskRef[],
    private readonly budget: UnsentBudget,
    private readonly graceMs: number,
    private readonly log: WarnLogger,
  ) {
    this.told = Array.from({ length: tasks.length }, () => undefined);
    this.unencoded = Array.from({ length: tasks.length }, () => undefined);
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    const forget = budget.add(this);
    res.once("close", () => {
      forget();
      clearTimeout(this.grace);
    });
  }

  unsent(): number {
    return this.res.destroyed ? 0 : this.res.writableLength;
  }

  /** A result item of task `i`; `notResult`: an async task's acknowledgement or a `processing` item with its progress. */
  item(i: number, item: unknown, notResult = false): void {
    const text = encode({ data: [item] });
    if (text === undefined) {
      (this.unencoded[i] ??= []).push(
        unencodable(this.tasks[i] as TaskRef, notResult ? "an acknowledgement or progress item" : "a result"),
      );
      return;
    }
    if (this.write(text) && !notResult) this.results++;
  }

  /** Task `i` is final: its error line, if it has errors (its own, or items that could not be sent). */
  final(i: number, outcome: TaskOutcome): void {
    const extra = this.unencoded[i] ?? [];
    const errors = extra.length > 0 ? [...outcome.errors, ...extra] : outcome.errors;
    let state = outcome.state === "done" && extra.length > 0 ? "failed" : outcome.state;
    if (errors.length > 0) {
      let text = encode({ errors });
      if (text === undefined) {
        text = JSON.stringify({ errors: [unencodable(this.tasks[i] as TaskRef, "an error")] });
        if (state === "done") state = "failed";
      }
      if (!this.write(text)) return;
    }
    this.told[i] = state;
  }

  /** The done line, with the counts of what this reader was sent. */
  end(): void {
    const count = (s: TaskOutcome["state"]) => this.told.filter((t) => t === s).length;
    const done = {
      done: true,
      tasks: this.tasks.length,
      completed: count("done"),
      failed: count("failed"),
      inDoubt: count("in-doubt"),
      // No "errors" count here: a line with an `errors` key is an error line, and readers rely on that.
      results: this.results,
    };
    if (this.write(JSON.stringify(done))) this.res.end();
  }

  /** Stop writing: one last error line naming the tasks the reader has not had the end of, then end; cut again: gone. */
  cut(reason: string): void {
    if (this.cutReason !== undefined) {
      this.res.destroy();
      return;
    }
    this.cutReason = reason;
    if (this.res.writableEnded) {
      // All of it is written already, done line included: the reader gets graceMs to take it.
      this.lingerThenCut();
      return;
    }
    const message = `${reason}; the stream ends here, and the tasks keep running: read them with GET /v1/tasks/{taskUUID}`;
    const open = this.tasks.filter((_, i) => this.told[i] === undefined);
    const errors =
      open.length > 0
        ? open.map((t) => ({ code: CLIENT_TOO_SLOW_CODE, message, taskUUID: t.taskUUID, taskType: t.taskType }))
        : [{ code: CLIENT_TOO_SLOW_CODE, message }];
    this.log.warn({ unsent: this.unsent(), tasks: open.length, reason }, "local NDJSON reader too slow; ending its stream");
    this.res.end(`${JSON.stringify({ errors })}\n`);
    this.lingerThenCut();
  }

  /** What was written stays for the reader to take for graceMs; then the connection is cut. */
  private lingerThenCut(): void {
    this.grace = setTimeout(() => this.res.destroy(), this.graceMs).unref();
    this.res.once("finish", () => clearTimeout(this.grace));
  }

  private write(text: string): boolean {
    if (this.cutReason !== undefined || this.res.destroyed || this.res.writableEnded) return false;
    const line = `${text}\n`;
    if (!this.budget.admit(this, line.length)) return false;
    this.res.write(line);
    return true;
  }
}
