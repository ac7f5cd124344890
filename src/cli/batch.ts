/**
 * `runware batch FILE`: one prompt per line (or one JSON task per line), run through the daemon at
 * its concurrency, one JSON line per result on stdout, a live progress line on stderr when it is a
 * terminal, images saved with `--out`.
 *
 * Resumable without redoing or re-billing work: every line's taskUUID is written to a state file
 * (JSON lines) before it is submitted, and its end after. A rerun skips finished lines; a line that
 * was submitted but not seen finishing is first looked up in the daemon (it may have finished while
 * we were gone), and only resubmitted, under the same taskUUID, when the daemon no longer knows it.
 */
import { dirname, resolve } from "node:path";
import { absolutizeLocalPaths } from "../client/local-files.js";
import { localInputs } from "./local-inputs.js";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { ResultItem, RunwareClient, RunwareError, TaskInput } from "../client/index.js";
import { isAsyncAcknowledgement } from "../protocol/results.js";
import { isPendingStatus } from "../protocol/statuses.js";
import { expectedResults, isComplete, type Expectation } from "../protocol/expect.js";
import { UsageError } from "../errors.js";
import { CLIENT_USAGE, compact, EXIT, flagsOf, int, parseClient, say, str, usage } from "./args.js";
import { CLIENT_DEFAULTS as D } from "./defaults.js";
import { Board, boardMode, renderBatchLine } from "./progress.js";
import { Saver } from "./save.js";
import { withDaemon } from "./reach.js";

const USAGE = `usage: runware batch FILE [options]
  FILE: one prompt per line, or one JSON task object per line ('#' comments and blank lines skipped)
  --out DIR          save every output (images, video, audio, 3D, text) as DIR/<uuid>.<ext>
  --state PATH       progress file for resuming (default FILE.runware-state)
  --model AIR        for prompt lines (default ${D.model})
  --width N --height N --steps N --n N   for prompt lines (defaults ${D.width}, ${D.height}, model default, ${D.numberResults})
  --chunk N          tasks per request to the daemon (default ${D.batchChunk})
  --validate         check every line (JSON, envelope, local files), print every problem, send nothing (exit 2 if any)
  --progress         the progress line (done / failed / running, ETA) even when stderr is not a terminal
${CLIENT_USAGE}`;

interface Line {
  no: number;
  task: TaskInput & { taskUUID: string };
  prompt?: string;
  /** When the line's task is complete: the engine's rule (numberResults, promptVersions, modelUpload status). */
  expect: Expectation;
  items: ResultItem[];
  errors: RunwareError[];
  ended: boolean;
}

type StateRecord = { line: number; taskUUID: string; status: "submitted" | "done" | "failed" };

export async function batch(argv: string[]): Promise<number> {
  const { values, positionals } = parseClient(
    argv,
    {
      out: { type: "string" },
      state: { type: "string" },
      model: { type: "string" },
      width: { type: "string" },
      height: { type: "string" },
      steps: { type: "string" },
      n: { type: "string" },
      validate: { type: "boolean" },
      chunk: { type: "string" },
      progress: { type: "boolean" },
    },
    true,
  );
  if (values["help"]) return usage(USAGE);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("batch takes exactly one FILE");
  if (!existsSync(file)) throw new UsageError(`cannot read ${file}`);
  const statePath = str(values, "state") ?? `${file}.runware-state`;
  const out = str(values, "out");
  const chunk = int(values, "chunk", 1) ?? D.batchChunk;
  const defaults = {
    model: str(values, "model") ?? D.model,
    width: int(values, "width", 1) ?? D.width,
    height: int(values, "height", 1) ?? D.height,
    steps: int(values, "steps", 1),
    numberResults: int(values, "n", 1) ?? D.numberResults,
  };

  if (values["validate"]) return (await import("./validate-tasks.js")).validateLines(file, defaults);

  // What earlier runs did: the last record per line wins.
  const previous = new Map<number, StateRecord>();
  if (existsSync(statePath)) {
    for (const l of readFileSync(statePath, "utf8").split("\n")) {
      if (!l.trim()) continue;
      try {
        const r = JSON.parse(l) as StateRecord;
        previous.set(r.line, r);
      } catch {
        /* a torn last line from an interrupted write: ignore */
      }
    }
  }

  const lines: Line[] = [];
  let skipped = 0;
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      const no = i + 1;
      const trimmed = text.trim();
      if (!trimmed || trimmed.startsWith("#")) return;
      const prev = previous.get(no);
      if (prev?.status === "done") {
        skipped++;
        return;
      }
      let task: TaskInput;
      let prompt: string | undefined;
      if (trimmed.startsWith("{")) {
        try {
          task = JSON.parse(trimmed) as TaskInput;
        } catch {
          throw new UsageError(`${file}:${no}: not valid JSON`);
        }
        if (typeof task.taskType !== "string") throw new UsageError(`${file}:${no}: task has no taskType`);
      } else {
        prompt = trimmed;
        task = { taskType: "imageInference", positivePrompt: trimmed, ...compact(defaults) };
      }
      // The same UUID across runs: a resumed line is never billed under a second UUID.
      const taskUUID = task.taskUUID ?? prev?.taskUUID ?? randomUUID();
      lines.push({
        no,
        task: { ...task, taskUUID },
        ...(prompt ? { prompt } : {}),
        expect: expectedResults(task),
        items: [],
        errors: [],
        ended: false,
      });
    });

  // Reach (or start) the daemon before anything is recorded as submitted.
  const client = await withDaemon(flagsOf(values), async (c) => (await c.status(), c));
  // Local files named as media inputs, relative to the batch file; every problem is exit 2 before anything is sent.
  const base = dirname(resolve(file));
  const read = await localInputs(
    client,
    lines.map((l) => absolutizeLocalPaths(l.task, base) as TaskInput),
    (i) => `${file}:${lines[i]?.no ?? "?"}`,
  );
  read.forEach((task, i) => (lines[i]!.task = { ...task, taskUUID: lines[i]!.task.taskUUID }));

  const progress = new BatchProgress(lines.length, skipped, values["progress"] === true);
  const record = (r: StateRecord) => appendFileSync(statePath, `${JSON.stringify(r)}\n`, { mode: 0o600 });
  const byUUID = new Map(lines.map((l) => [l.task.taskUUID, l]));
  const saver = out ? new Saver(out) : undefined;
  const onSigint = () => {
    saver?.discardPartial();
    say(`\nrunware batch: interrupted; finished lines are recorded in ${statePath}. Run the same command again to resume.`);
    process.exit(130);
  };
  process.once("SIGINT", onSigint);

  let unsaved = 0;
  const emit = async (l: Line, item: ResultItem) => {
    const saved = saver ? await saver.save(item) : item;
    if (saved["saveErrors"]) unsaved++;
    process.stdout.write(`${JSON.stringify({ line: l.no, ...(l.prompt ? { prompt: l.prompt } : {}), ...saved })}\n`);
  };
  const finish = (l: Line, failed: boolean) => {
    if (l.ended) return;
    l.ended = true;
    if (failed) process.stdout.write(`${JSON.stringify({ line: l.no, taskUUID: l.task.taskUUID, errors: l.errors })}\n`);
    record({ line: l.no, taskUUID: l.task.taskUUID, status: failed ? "failed" : "done" });
    progress.end(failed);
  };

  // Lines an earlier run submitted: the daemon may still have them (running, or finished within retention).
  const fresh: Line[] = [];
  for (const l of lines) {
    if (previous.get(l.no)?.status !== "submitted") {
      fresh.push(l);
      continue;
    }
    progress.started(1);
    const known = await client.task(l.task.taskUUID, { wait: true });
    if (!known) {
      progress.started(-1);
      fresh.push(l); // the daemon forgot it: resubmit under the same UUID (Runware conflicts if it still runs it, and the daemon then polls)
      continue;
    }
    for (const item of known.data) await emit(l, item);
    l.errors.push(...known.errors);
    finish(l, known.state !== "done");
  }

  for (let i = 0; i < fresh.length; i += chunk) {
    const part = fresh.slice(i, i + chunk);
    for (const l of part) record({ line: l.no, taskUUID: l.task.taskUUID, status: "submitted" });
    progress.started(part.length);
    await runChunk(client, part, byUUID, emit, finish);
  }
  process.off("SIGINT", onSigint);
  progress.close();
  const failed = lines.filter((l) => l.errors.length > 0).length;
  say(
    `runware batch: ${lines.length - failed} done, ${failed} failed${skipped ? `, ${skipped} already done earlier` : ""}` +
      (unsaved ? `, ${unsaved} result(s) with files not saved (see saveErrors)` : ""),
  );
  return failed > 0 || unsaved > 0 ? EXIT.errors : EXIT.ok;
}

async function runChunk(
  client: RunwareClient,
  part: Line[],
  byUUID: Map<string, Line>,
  emit: (l: Line, item: ResultItem) => Promise<void>,
  finish: (l: Line, failed: boolean) => void,
): Promise<void> {
  for await (const frame of client.stream(part.map((l) => l.task))) {
    if ("data" in frame) {
      for (const item of frame.data) {
        const l = byUUID.get(item.taskUUID);
        // A processing item (an async task's progress) is news, not a result.
        if (!l || l.ended || isAcknowledgement(l, item) || isPendingStatus(item["status"])) continue;
        await emit(l, item);
        l.items.push(item);
        if (isComplete(l.expect, l.items)) finish(l, false);
      }
    } else if ("errors" in frame) {
      for (const e of frame.errors) {
        const l = e.taskUUID ? byUUID.get(e.taskUUID) : undefined;
        if (!l) continue;
        l.errors.push(e);
        finish(l, true);
      }
    }
  }
  // Anything the stream did not settle (an odd result count) is asked for explicitly.
  for (const l of part) {
    if (l.ended) continue;
    const view = await client.task(l.task.taskUUID, { wait: true });
    if (view) l.errors.push(...view.errors);
    finish(l, !view || view.state !== "done");
  }
}

/**
 * The stream passes an async task's acknowledgement on as a data frame (`{taskType, taskUUID}`,
 * docs/local-api.md §2.2, docs/protocol.md §4.1); it is not a result, and counting it would end the line one image early.
 * The engine's own rule (protocol/results.ts).
 */
function isAcknowledgement(l: Line, item: ResultItem): boolean {
  return l.task["deliveryMethod"] === "async" && isAsyncAcknowledgement(item);
}

/** done / failed / running counts and the ETA (progress.ts), redrawn as lines start and end. */
class BatchProgress {
  private done = 0;
  private failed = 0;
  private running = 0;
  private readonly start = Date.now();
  private readonly board: Board;

  constructor(
    private readonly total: number,
    private readonly skipped: number,
    forced: boolean,
  ) {
    const counts = () => ({ total, done: this.done, failed: this.failed, running: this.running, skipped });
    this.board = new Board(process.stderr, boardMode(process.stderr, forced), (now) => [
      ["batch", renderBatchLine(counts(), now - this.start)],
    ]);
    this.board.draw();
  }

  started(n: number): void {
    this.running += n;
    this.board.draw();
  }

  end(failed: boolean): void {
    this.running = Math.max(0, this.running - 1);
    if (failed) this.failed++;
    else this.done++;
    this.board.draw();
  }

  close(): void {
    this.board.close();
  }
}
