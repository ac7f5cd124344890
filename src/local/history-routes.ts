/**
 * `GET /v1/history` and `GET /v1/history/{taskUUID}` (docs/local-api.md §2.10): the ledger's
 * finished tasks, newest first, a page at a time; one in full.
 */
import type { ServerResponse } from "node:http";
import type { Ledger } from "./ledger/ledger.js";
import { InvalidHistoryQueryError, parseHistoryQuery } from "./ledger/query.js";
import { safeDecode, sendError, sendJson } from "./http.js";

const ENTRY_PATH = /^\/v1\/history\/([^/]+)$/;

/** Answers the request if it is a history route; false when it is not one. */
export function historyRoute(ledger: Ledger, method: string | undefined, path: string, query: string, res: ServerResponse): boolean {
  const one = ENTRY_PATH.exec(path);
  if (path !== "/v1/history" && !one) return false;
  if (method !== "GET") {
    sendError(res, 405, { code: "methodNotAllowed", message: "use GET" }, { allow: "GET" });
    return true;
  }
  if (one) {
    const uuid = safeDecode(one[1] as string) ?? "";
    const entry = uuid === "" ? undefined : ledger.find(uuid);
    if (entry) sendJson(res, 200, { entry });
    else sendError(res, 404, { code: "taskNotFound", message: `no task ${uuid} in the history`, taskUUID: uuid });
    return true;
  }
  try {
    sendJson(res, 200, ledger.page(parseHistoryQuery(new URLSearchParams(query), Date.now())));
  } catch (err) {
    if (!(err instanceof InvalidHistoryQueryError)) throw err;
    sendError(res, 400, err.toRunwareError({ parameter: err.parameter }));
  }
  return true;
}
