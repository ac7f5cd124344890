/**
 * A JSON answer of results (`POST /v1`, `GET /v1/tasks/{uuid}`): held task by task until it can be
 * written, then written item by item, waiting for 'drain' whenever the socket has enough, instead
 * of being built as one string (a 200 MB string stalls the event loop for every other caller, and
 * past V8's string limit it cannot be built at all). A small answer still goes in one write, with
 * a Content-Length; a large one is chunked. An item that cannot be encoded is left out and its task
 * gets an `invalidResponse` error in `errors`.
 *
 * What it holds, and what its reader has not taken, count against the local clients' total budget
 * (unsent.ts): a batch's results are held until its last task ends, and a reader that stops reading
 * holds the rest of its answer. When it holds the most as that budget is passed, it is cut (below);
 * its tasks keep running and stay readable by UUID.
 */
import type { ServerResponse } from "node:http";
import type { RunwareErrorObject } from "../errors.js";
import type { WarnLogger } from "../log.js";
import { encode, unencodable } from "./encode.js";
import { sendJson } from "./http.js";
import { CLIENT_TOO_SLOW_CODE, type LocalClient, type UnsentBudget } from "./unsent.js";

export const ANSWER_TOO_LARGE_CODE = "answerTooLarge";

/** One task's share of an answer. */
export interface AnswerPart {
  taskUUID: string;
  taskType: string;
  data: readonly unknown[];
  errors: readonly RunwareErrorObject[];
}

/** An answer up to this size is sent in one write, with a Content-Length. */
const ONE_WRITE_BYTES = 64 * 1024;

export class JsonAnswer implements LocalClient {
  private readonly parts: Array<AnswerPart | undefined>;
  private readonly bytes: number[];
  private held = 0;
  private phase: "holding" | "writing" | "cut" | "done" = "holding";
  private out: Writer | undefined;
  /** Encoded errors of the parts written so far, and of items that could not be encoded. */
  private readonly errors: string[] = [];
  /** Parts before this index have been written whole. */
  private written = 0;
  private grace: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly tasks: ReadonlyArray<{ taskUUID: string; taskType: string }>,
    private readonly budget: UnsentBudget,
    private readonly graceMs: number,
    private readonly log: WarnLogger,
  ) {
    this.parts = Array.from({ length: tasks.length }, () => undefined);
    this.bytes = Array.from({ length: tasks.length }, () => 0);
    const forget = budget.add(this);
    res.once("close", () => {
      forget();
      clearTimeout(this.grace);
    });
  }

  unsent(): number {
    if (this.res.destroyed) return 0;
    return this.held + (this.out ? this.res.writableLength : 0);
  }

  /** Hold task `i`'s part (measured at `bytes`) until the answer is written; false once it was cut. */
  hold(i: number, part: AnswerPart, bytes: number): boolean {
    if (this.phase !== "holding" || !this.budget.admit(this, bytes, false)) return false;
    this.parts[i] = part;
    this.bytes[i] = bytes;
    this.held += bytes;
    return true;
  }

  /**
   * Held: answered 503 `answerTooLarge` at once, naming every task. Being written: nothing more of
   * it is written but its end, `],"errors":[...]}` with a `clientTooSlow` error for every task not
   * written whole, so the answer is still Runware's partial-success envelope; the reader has
   * graceMs to take it. Cut again, or gone: the connection is closed.
   */
  cut(reason: string): void {
    const phase = this.phase;
    this.log.warn({ unsent: this.unsent(), phase, reason }, "local JSON answer over the clients' byte budget; cut");
    this.phase = "cut";
    this.parts.fill(undefined);
    this.held = 0;
    if (phase === "holding" && !this.res.headersSent) {
      const message = `${reason}: the answer is not sent; the tasks keep running: read them with GET /v1/tasks/{taskUUID}, or ask with Accept: application/x-ndjson to receive results as they arrive`;
      const errors = this.tasks.map((t) => ({ code: ANSWER_TOO_LARGE_CODE, message, taskUUID: t.taskUUID, taskType: t.taskType }));
      sendJson(this.res, 503, { errors });
      return;
    }
    if (phase === "done" && !this.res.destroyed) {
      // All of it is written already: the reader gets graceMs to take it.
      this.lingerThenCut();
      return;
    }
    if (phase !== "writing" || !this.out || this.res.destroyed) {
      this.res.destroy();
      return;
    }
    const message = `${reason}; the rest of the answer is not sent, and the tasks keep running: read them with GET /v1/tasks/{taskUUID}`;
    for (const t of this.tasks.slice(this.written))
      this.errors.push(JSON.stringify({ code: CLIENT_TOO_SLOW_CODE, message, taskUUID: t.taskUUID, taskType: t.taskType }));
    this.out.end(`],"errors":[${this.errors.join(",")}]}`);
    this.lingerThenCut();
  }

  /** What was written stays for the reader to take for graceMs; then the connection is cut. */
  private lingerThenCut(): void {
    this.grace = setTimeout(() => this.res.destroy(), this.graceMs).unref();
    this.res.once("finish", () => clearTimeout(this.grace));
  }

  /**
   * Write `{...head, "data": [...], "errors": [...]}` (`errors` only when there are some, unless
   * `alwaysErrors`), letting go of each item once written. Resolves when written, cut or abandoned.
   */
  async write(status: number, head: Record<string, string | number> | undefined, alwaysErrors = false): Promise<void> {
    if (this.phase !== "holding") return;
    this.phase = "writing";
    const out = (this.out = new Writer(this.res, status));
    let first = true;
    await out.put(head ? `${JSON.stringify(head).slice(0, -1)},"data":[` : '{"data":[');
    for (let i = 0; i < this.parts.length; i++, this.written = i) {
      const part = this.parts[i];
      if (!part) continue;
      for (const item of part.data) {
        if (this.phase !== "writing" || this.res.destroyed) return;
        const text = encode(item);
        if (text === undefined) this.errors.push(JSON.stringify(unencodable(part)));
        else {
          // Its encoded length stands for its measure (size.ts estimates that length); never more than is held.
          const size = Math.min(text.length, this.bytes[i] as number);
          await out.put(first ? text : `,${text}`);
          first = false;
          this.held -= size;
          this.bytes[i] = (this.bytes[i] as number) - size;
        }
      }
      if (this.phase !== "writing") return;
      for (const e of part.errors) this.errors.push(encode(e) ?? JSON.stringify(unencodable(part, "an error")));
      this.parts[i] = undefined;
      this.held -= this.bytes[i] as number;
    }
    this.phase = "done";
    out.end(this.errors.length > 0 || alwaysErrors ? `],"errors":[${this.errors.join(",")}]}` : "]}");
  }
}

/** Buffers the first ONE_WRITE_BYTES; past them, streams with backpressure. */
class Writer {
  private buffered: string[] = [];
  private size = 0;
  private streaming = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly status: number,
  ) {}

  async put(text: string): Promise<void> {
    if (this.res.destroyed) return;
    if (!this.streaming) {
      this.buffered.push(text);
      this.size += text.length;
      if (this.size <= ONE_WRITE_BYTES) return;
      this.streaming = true;
      this.res.writeHead(this.status, { "content-type": "application/json" });
      text = this.buffered.join("");
      this.buffered = [];
    }
    if (!this.res.write(text)) await drained(this.res);
  }

  end(text: string): void {
    if (this.res.destroyed) return;
    if (this.streaming) {
      this.res.end(text);
      return;
    }
    this.buffered.push(text);
    const body = this.buffered.join("");
    this.res.writeHead(this.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    this.res.end(body);
  }
}

/** Resolves on 'drain', or when the response is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
