/**
 * The routes that only read the daemon's state (docs/local-api.md §2.5, §2.10, §7): `GET
 * /v1/status`, the history, `GET /metrics`, the event stream `GET /v1/events`. Each answers GET only.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { VERSION } from "../version.js";
import type { StatusLimits } from "./config.js";
import { historyRoute } from "./history-routes.js";
import { sendError, sendJson } from "./http.js";
import type { EventHub } from "./events.js";
import type { DaemonMetrics } from "./metrics.js";
import type { TaskService } from "./service.js";

export interface ReadRouteOptions {
  /** Shown under `limits` in `GET /v1/status`. */
  limits: StatusLimits;
  metrics?: DaemonMetrics;
  events?: EventHub;
}

/** Answers the request if it is one of these routes (true), else leaves it (false). */
export async function readRoute(
  service: TaskService,
  opts: ReadRouteOptions,
  req: IncomingMessage,
  path: string,
  query: string,
  res: ServerResponse,
): Promise<boolean> {
  if (path === "/v1/status") {
    if (getOnly(req, res))
      sendJson(res, 200, { ...service.engine.stats(), spend: service.ledger.status(), limits: opts.limits, version: VERSION });
    return true;
  }
  if (path === "/metrics" && opts.metrics) {
    if (!getOnly(req, res)) return true;
    const { text, contentType } = await opts.metrics.render();
    res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
    res.end(text);
    return true;
  }
  if (path === "/v1/events" && opts.events) {
    if (getOnly(req, res)) opts.events.open(res, (req.headers.accept ?? "").includes("text/event-stream"));
    return true;
  }
  return historyRoute(service.ledger, req.method, path, query, res);
}

function getOnly(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET") return true;
  sendError(res, 405, { code: "methodNotAllowed", message: "use GET" }, { allow: "GET" });
  return false;
}
