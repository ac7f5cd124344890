/**
 * `runware history` on a terminal: the entries as a table, one row per task, its outputs (or its
 * first error) on indented lines below. Pure: entries and a width in, text out.
 */
import type { HistorySummary } from "../protocol/history.js";

const HEADERS = ["TIME", "LABEL", "TYPE", "MODEL", "STATE", "COST", "DURATION", "SEED", "PROMPT"] as const;
const GAP = "  ";
/** Columns that would otherwise push the prompt off the line are cut to this (a label may be 64 characters). */
const MAX_CELL = 24;
/** The prompt keeps at least this much, even if the row then wraps. */
const MIN_PROMPT = 12;

/** `YYYY-MM-DD HH:MM:SS` in local time; the ISO text as is when it is not a date. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Under a second: milliseconds (`26ms`); under a minute: seconds with one decimal (`1.2s`); under an hour `3m04s`; else `2h05m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  // Rounded first, so 59.96 s reads 1m00s, not 60.0s.
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** USD to 4 decimals (`$0.0013`); none: `-`, with the reason when the task type reports a cost (`- (webhook)`). */
export function formatCost(entry: Pick<HistorySummary, "cost" | "uncosted">): string {
  if (entry.cost === undefined) return entry.uncosted ? `- (${entry.uncosted})` : "-";
  if (entry.cost > 0 && entry.cost < 0.00005) return "<$0.0001";
  return `$${entry.cost.toFixed(4)}`;
}

/** Control characters (newlines, escape sequences from a prompt or label) become spaces: a cell is one line and cannot drive the terminal. */
export function clean(text: string): string {
  return text.replace(/\p{Cc}/gu, " ");
}

let segmenter: Intl.Segmenter | undefined;
/** The characters a reader sees (grapheme clusters: an emoji with its modifiers is one). */
function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter();
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** At most `width` characters, ending in `…` (after no space) when cut. */
function truncate(text: string, width: number): string {
  const chars = graphemes(text);
  if (chars.length <= width) return text;
  const kept = chars.slice(0, width - 1).join("");
  return width <= 0 ? "" : `${kept.trimEnd()}…`;
}

const len = (text: string) => graphemes(text).length;
const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - len(text)));

function cells(e: HistorySummary): string[] {
  return [
    localTime(e.finishedAt),
    truncate(clean(e.label), MAX_CELL),
    truncate(clean(e.taskType), MAX_CELL),
    truncate(clean(e.model ?? "-"), MAX_CELL),
    e.state,
    formatCost(e),
    formatDuration(e.durationMs),
    e.seed === undefined ? "-" : String(e.seed),
    clean(e.prompt ?? "").trim(),
  ];
}

/** What goes under a row: each output URL (never cut: it is meant to be copied), else the first error. */
function details(e: HistorySummary): string[] {
  if (e.outputs.length > 0) return e.outputs.map((url) => `  ${clean(url)}`);
  const first = e.errors[0];
  if (!first) return [];
  const more = e.errors.length > 1 ? ` (+${e.errors.length - 1} more)` : "";
  return [`  error ${clean(first.code)}: ${clean(first.message)}${more}`];
}

/**
 * The table for `width` columns: every column as wide as its widest cell, the prompt (last) cut
 * with `…` to what is left of the line. No entries: one line saying so.
 */
export function historyTable(entries: readonly HistorySummary[], width: number): string {
  if (entries.length === 0) return "no finished tasks match\n";
  const rows = entries.map(cells);
  const fixed = HEADERS.slice(0, -1).map((h, i) => Math.max(len(h), ...rows.map((r) => len(r[i]!))));
  const promptWidth = Math.max(MIN_PROMPT, width - fixed.reduce((a, w) => a + w + GAP.length, 0));
  const line = (r: readonly string[]) => [...fixed.map((w, i) => pad(r[i]!, w)), truncate(r.at(-1)!, promptWidth)].join(GAP).trimEnd();
  const out = [line(HEADERS)];
  for (const [i, e] of entries.entries()) out.push(line(rows[i]!), ...details(e));
  return `${out.join("\n")}\n`;
}
