/**
 * The query of `GET /v1/history` (docs/local-api.md §2.10), checked: since/until as ISO 8601 or a
 * duration ago (`90m`, `24h`, `7d`), label, taskType, limit (1 to 1000, default 50), cursor (the
 * id the previous page ended at). Pure: the clock is passed in.
 */
import { RunwareDaemonError } from "../../errors.js";
import { durationAgo } from "../../util/duration.js";
import type { HistoryFilter } from "./store.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1_000;
const KNOWN = new Set(["since", "until", "label", "taskType", "limit", "cursor"]);

export class InvalidHistoryQueryError extends RunwareDaemonError {
  constructor(
    readonly parameter: string,
    why: string,
  ) {
    super("invalidHistoryQuery", `${parameter} ${why}`);
  }
}

/** The filter a query names; throws InvalidHistoryQueryError. */
export function parseHistoryQuery(q: URLSearchParams, now: number): HistoryFilter {
  for (const key of q.keys())
    if (!KNOWN.has(key)) throw new InvalidHistoryQueryError(key, `is not a history parameter (use ${[...KNOWN].join(", ")})`);
  const one = (key: string): string | undefined => {
    const all = q.getAll(key);
    if (all.length > 1) throw new InvalidHistoryQueryError(key, "is given more than once");
    return all[0] === "" ? undefined : all[0];
  };
  const f: HistoryFilter = { limit: DEFAULT_LIMIT };
  const since = one("since");
  if (since !== undefined) f.since = instant("since", since, now);
  const until = one("until");
  if (until !== undefined) f.until = instant("until", until, now);
  const label = one("label");
  if (label !== undefined) f.label = label;
  const taskType = one("taskType");
  if (taskType !== undefined) f.taskType = taskType;
  const limit = one("limit");
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
      throw new InvalidHistoryQueryError("limit", `must be a whole number from 1 to ${MAX_LIMIT}`);
    f.limit = n;
  }
  const cursor = one("cursor");
  if (cursor !== undefined) {
    const n = Number(cursor);
    if (!/^[1-9]\d*$/.test(cursor) || !Number.isSafeInteger(n))
      throw new InvalidHistoryQueryError("cursor", "must be a nextCursor this daemon gave");
    f.beforeId = n;
  }
  return f;
}

/** An ISO 8601 time, or a duration before `now`. */
function instant(parameter: string, text: string, now: number): number {
  const ago = durationAgo(text);
  if (ago !== undefined) return now - ago;
  // A date alone or a date and time; Date.parse takes more than ISO 8601, so the shape is checked first.
  const t = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t))
    throw new InvalidHistoryQueryError(parameter, "must be an ISO 8601 time (2026-12-01T09:00:00Z) or a duration ago (90m, 24h, 7d)");
  return t;
}
