/**
 * Progress you can watch (issue 14): a live line per running task (its task type, Runware's
 * `progress` 0-100 as a bar, the time since it was sent; docs/protocol.md §4.2) and, for `batch`,
 * done / failed / running counts with an ETA. On a terminal the lines are redrawn in place; off a
 * terminal nothing is written unless `--progress` asks, and then one plain line per change.
 * The rendering is pure (clock passed in); `Board` does the writing.
 */

/** One task as its line shows it. */
export interface TaskLine {
  taskType: string;
  readonly startedAt: number;
  /** Runware's last `progress` (0-100), if it sent any. */
  progress?: number;
  results: number;
  /** Results it will yield (numberResults, ...), when known. */
  readonly expected?: number;
  state: "running" | "done" | "failed";
  endedAt?: number;
}

/** Why: wide enough to read 5 % steps, narrow enough for an 80-column terminal with the rest of the line. */
const BAR_WIDTH = 20;
/** Why: more running lines than this scroll a terminal; the rest are counted on one line. */
const MAX_LINES = 8;

const secs = (ms: number) => `${Math.max(0, Math.round(ms / 1000))}s`;

export function bar(progress: number | undefined, width = BAR_WIDTH): string {
  if (progress === undefined) return `[${" ".repeat(width)}]`;
  const filled = Math.round((Math.max(0, Math.min(100, progress)) / 100) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

export function renderTaskLine(t: TaskLine, now: number): string {
  const elapsed = secs((t.endedAt ?? now) - t.startedAt);
  const count = t.expected && t.expected > 1 ? ` ${t.results}/${t.expected}` : "";
  if (t.state !== "running") return `${t.taskType.padEnd(18)} ${t.state}${count} ${elapsed}`;
  const pct = t.progress === undefined ? "  …" : `${String(Math.round(t.progress)).padStart(3)}%`;
  return `${t.taskType.padEnd(18)} ${bar(t.progress)} ${pct}${count} ${elapsed}`;
}

export interface BatchCounts {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly skipped: number;
}

/** `[batch] 12/40 done, 1 failed, 4 running, 2.5/s, ETA 11s`; the ETA from the rate so far. */
export function renderBatchLine(c: BatchCounts, elapsedMs: number): string {
  const finished = c.done + c.failed;
  const rate = elapsedMs > 0 ? (finished * 1000) / elapsedMs : 0;
  const eta = rate > 0 ? ` ETA ${secs(((c.total - finished) / rate) * 1000)}` : "";
  return (
    `[batch] ${finished}/${c.total} done, ${c.failed} failed, ${c.running} running` +
    `${c.skipped ? `, ${c.skipped} skipped` : ""}, ${rate.toFixed(1)}/s${eta}`
  );
}

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export type BoardMode = "tty" | "lines" | "off";

/** `--progress` forces it on; otherwise only a terminal gets it. */
export function boardMode(stream: ProgressStream, forced: boolean): BoardMode {
  return stream.isTTY ? "tty" : forced ? "lines" : "off";
}

/**
 * Writes lines to stderr: on a terminal the block is redrawn in place (and every second, so the
 * elapsed time moves); as plain lines, each line is written when its text changes, never twice.
 */
export class Board {
  private drawn = 0;
  private readonly lastLine = new Map<string, string>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ProgressStream,
    readonly mode: BoardMode,
    private readonly render: (now: number) => Array<[key: string, text: string]>,
    private readonly now: () => number = Date.now,
    tickMs = 1000,
  ) {
    if (mode === "tty") {
      this.ticker = setInterval(() => this.draw(), tickMs);
      this.ticker.unref();
    }
  }

  draw(): void {
    if (this.mode === "off") return;
    const lines = this.render(this.now());
    if (this.mode === "lines") {
      for (const [key, text] of lines) {
        if (this.lastLine.get(key) === text) continue;
        this.lastLine.set(key, text);
        this.stream.write(`${text}\n`);
      }
      return;
    }
    const shown =
      lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES - 1), ["more", `… and ${lines.length - MAX_LINES + 1} more`]] : lines;
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    this.stream.write(`${up}${shown.map(([, text]) => `\r\x1b[2K${text}\n`).join("")}`);
    // Lines left over from a longer block are cleared.
    for (let i = shown.length; i < this.drawn; i++) this.stream.write("\r\x1b[2K\n");
    if (shown.length < this.drawn) this.stream.write(`\x1b[${this.drawn - shown.length}A`);
    this.drawn = shown.length;
  }

  /** A last draw, and the ticker stopped. */
  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.draw();
  }
}
