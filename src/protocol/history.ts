/**
 * The shapes of the daemon's history (issue 16; docs/local-api.md §2.10): one entry per finished
 * task, what `GET /v1/history` lists and `GET /v1/history/{taskUUID}` shows. Shared by the daemon
 * and its clients, so types only.
 */
import type { RunwareErrorObject } from "../errors.js";

/** Why a finished task has no cost: it went to a webhook, ended in doubt or failed, or Runware sent none. */
export type Uncosted = "webhook" | "in-doubt" | "failed" | "unreported";

/** One finished task, as listed (newest first). */
export interface HistorySummary {
  /** Grows with each finish; the cursor of a page is the last entry's id. */
  id: number;
  taskUUID: string;
  taskType: string;
  label: string;
  state: "done" | "failed" | "in-doubt";
  model?: string;
  /** `positivePrompt` (or `prompt`), as sent. */
  prompt?: string;
  /** The task's seed, else the first result's: what re-runs it the same. */
  seed?: number;
  /** Every output's URL (imageURL, videoURL, audioURL, mediaURL, outputs.files[].url). */
  outputs: string[];
  /** USD, the sum of its results' `cost`; absent when unknown (then `uncosted` says why). */
  cost?: number;
  /** Set only for task types that report a cost (protocol/cost.ts) and came back without one. */
  uncosted?: Uncosted;
  /** ISO 8601. */
  acceptedAt: string;
  finishedAt: string;
  durationMs: number;
  errors: RunwareErrorObject[];
}

/** One finished task in full: the task as sent (long strings and data URIs shortened) and its results. */
export interface HistoryEntry extends HistorySummary {
  /**
   * The task as sent upstream, without its taskUUID and the includeCost the daemon added; it keeps
   * the `deliveryMethod: "async"` the daemon adds for async kinds. Absent when the daemon did not
   * have it (a task asked about again with no earlier entry) or the entry was too large.
   */
  input?: Record<string, unknown>;
  data: Record<string, unknown>[];
  /** The entry was over 64 KiB: its results (and, if still too large, its input) were left out. */
  truncated?: true;
}

export interface HistoryPage {
  entries: HistorySummary[];
  /** Pass as `cursor` for the next (older) page; absent on the last one. */
  nextCursor?: string;
}

/** The query of `GET /v1/history` (all optional; `since`/`until`: ISO 8601, or a duration ago like `90m`, `24h`, `7d`). */
export interface HistoryQuery {
  since?: string;
  until?: string;
  label?: string;
  taskType?: string;
  /** 1 to 1000, default 50. */
  limit?: number;
  cursor?: string;
}
