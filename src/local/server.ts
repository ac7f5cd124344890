/**
 * The local API (contract §2): HTTP/1.1 routes over the Unix socket, plus the WebSocket upgrade on
 * `GET /v1`. Knows HTTP, not Runware: batches go to the TaskService, status comes from the engine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import type { TaskOutcome } from "../upstream/task.js";
import { VERSION } from "../version.js";
import { BodyTooLarge, NdjsonWriter, readBody, sendError, sendJson } from "./http.js";
import type { TaskService } from "./service.js";
import { isRefusal, validateBatch } from "./validate.js";
import type { LocalWebSocket } from "./wsapi.js";

export interface LocalServerOptions {
  maxBodyBytes: number;
  logger: Logger;
}

const TASK_PATH = /^\/v1\/tasks\/([^/]+)$/;
/** HTTP status for an admission error code. */
const ADMISSION_STATUS: Record<string, number> = { draining: 503, queueFull: 429 };

export function createLocalServer(service: TaskService, ws: LocalWebSocket, opts: LocalServerOptions): Server {
  const log = opts.logger.child({ mod: "local-api" });
  let clientSeq = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "request handler failed");
      if (!res.headersSent) sendError(res, 500, { code: "internalError", message: "the daemon failed to handle the request" });
      else res.destroy();
    });
  });

  // Browsers send Origin (and Referer); scripts and curl do not. A page must never drive the daemon.
  function fromBrowser(req: IncomingMessage): boolean {
    return req.headers.origin !== undefined || req.headers.referer !== undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (fromBrowser(req)) {
      sendError(res, 403, { code: "forbiddenOrigin", message: "requests from web pages (with an Origin header) are refused" });
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/v1") {
      if (req.method === "POST") return postTasks(req, res);
      return methodNotAllowed(res, "POST");
    }
    if (path === "/v1/status") {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      return sendJson(res, 200, { ...service.engine.stats(), version: VERSION });
    }
    const m = TASK_PATH.exec(path);
    if (m) {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      // A malformed %-escape cannot name a task we know: 404, not a 500 from the URIError.
      const uuid = safeDecode(m[1] as string);
      if (uuid === undefined) return sendError(res, 404, { code: "taskNotFound", message: "no such task (malformed taskUUID in the path)" });
      return getTask(res, uuid, url.searchParams.get("wait"));
    }
    sendError(res, 404, { code: "notFound", message: `no route ${req.method} ${path}` });
  }

  function methodNotAllowed(res: ServerResponse, allow: string): void {
    sendError(res, 405, { code: "methodNotAllowed", message: `use ${allow}` }, { allow });
  }

  async function getTask(res: ServerResponse, uuid: string, wait: string | null): Promise<void> {
    if (wait === "1" || wait === "true") {
      const done = service.wait(uuid);
      if (done) {
        const outcome = await done;
        return sendJson(res, 200, view(outcome));
      }
    }
    const snap = service.lookup(uuid);
    if (!snap) return sendError(res, 404, { code: "taskNotFound", message: `no task ${uuid} in flight or within retention`, taskUUID: uuid });
    sendJson(res, 200, view(snap));
  }

  async function postTasks(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // Stop reading a body we will not use; the connection cannot be reused after that.
        sendError(res, 413, { code: err.code, message: err.message }, { connection: "close" });
        res.on("finish", () => req.socket.destroy());
        return;
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return sendError(res, 400, { code: "invalidRequestBody", message: "the body is not valid JSON" });
    }
    const tasks = validateBatch(parsed, (u) => service.inFlight(u));
    if (isRefusal(tasks)) return sendError(res, tasks.status, tasks.error);
    const refused = service.admissionError(tasks);
    if (refused) {
      const status = ADMISSION_STATUS[refused.code] ?? 503;
      return sendError(res, status, refused.toRunwareError(), status === 429 || status === 503 ? { "retry-after": "1" } : {});
    }
    const client = `http:${++clientSeq}`;
    log.debug({ client, tasks: tasks.length }, "batch accepted");

    if ((req.headers.accept ?? "").includes("application/x-ndjson")) {
      const out = new NdjsonWriter(res);
      const outcomes = await service.run(tasks, client, (ev) => {
        if (ev.type === "data" || ev.type === "ack") out.line({ data: [ev.item] });
        else if (ev.outcome.errors.length > 0) out.line({ errors: ev.outcome.errors });
      });
      out.end({ done: true, ...counts(outcomes) });
      return;
    }
    const outcomes = await service.run(tasks, client, () => {});
    const data = outcomes.flatMap((o) => o.data);
    const errors = outcomes.flatMap((o) => o.errors);
    sendJson(res, 200, errors.length > 0 ? { data, errors } : { data });
  }

  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
    if (path !== "/v1" || fromBrowser(req)) {
      socket.end(`HTTP/1.1 ${path !== "/v1" ? "404 Not Found" : "403 Forbidden"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    ws.handleUpgrade(req, socket, head);
  });

  return server;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function view(s: { taskUUID: string; taskType: string; state: string; data: unknown[]; errors: unknown[] }) {
  return { taskUUID: s.taskUUID, taskType: s.taskType, state: s.state, data: s.data, errors: s.errors };
}

function counts(outcomes: TaskOutcome[]) {
  return {
    tasks: outcomes.length,
    completed: outcomes.filter((o) => o.state === "done").length,
    failed: outcomes.filter((o) => o.state === "failed").length,
    inDoubt: outcomes.filter((o) => o.state === "in-doubt").length,
    // No "errors" count here: a line with an `errors` key is an error frame, and readers rely on that.
    results: outcomes.reduce((n, o) => n + o.data.length, 0),
  };
}
