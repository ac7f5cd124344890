/**
 * The client's side of the daemon's history (docs/local-api.md §2.10): `GET /v1/history` a page at
 * a time, newest first, and `GET /v1/history/{taskUUID}` one entry in full. Loaded on first use
 * (index.ts), so a client that never asks pays nothing for it.
 */
import type { HistoryEntry, HistoryPage, HistoryQuery } from "../protocol/history.js";
import { ClientError, RequestRefusedError } from "./errors.js";

/** The client's GET: a 2xx answer's JSON; a refusal rejects with RequestRefusedError. */
export type GetJson = (path: string) => Promise<unknown>;

/** The query's fields, in the order they are sent. */
const QUERY_KEYS = ["since", "until", "label", "taskType", "limit", "cursor"] as const satisfies readonly (keyof HistoryQuery)[];

/** `/v1/history` with every field of `query` that is set (an undefined one is left out, not sent as "undefined"). */
export function historyPath(query: HistoryQuery): string {
  const params = new URLSearchParams();
  for (const key of QUERY_KEYS) {
    const value = query[key];
    if (value !== undefined) params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `/v1/history?${qs}` : "/v1/history";
}

export async function historyPage(get: GetJson, query: HistoryQuery): Promise<HistoryPage> {
  const page = (await get(historyPath(query))) as Partial<HistoryPage> | null;
  if (!Array.isArray(page?.entries)) throw new ClientError("invalidResponse", "the daemon's history answer has no entries array");
  return page as HistoryPage;
}

/** The newest entry with that UUID; undefined when the daemon has none (404 taskNotFound). */
export async function historyEntry(get: GetJson, taskUUID: string): Promise<HistoryEntry | undefined> {
  try {
    const answer = (await get(`/v1/history/${encodeURIComponent(taskUUID)}`)) as { entry?: HistoryEntry } | null;
    if (!answer?.entry) throw new ClientError("invalidResponse", "the daemon's history answer has no entry");
    return answer.entry;
  } catch (err) {
    // Only the daemon's "no such task": a daemon without the route (404 notFound) is not an answer.
    if (err instanceof RequestRefusedError && err.status === 404 && err.code === "taskNotFound") return undefined;
    throw err;
  }
}
