/**
 * The local API (docs/local-api.md §2): HTTP/1.1 routes over the Unix socket, plus the WebSocket upgrade on
 * `GET /v1`. Knows HTTP, not Runware: batches go to the TaskService, status comes from the engine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";
import type { TaskOutcome } from "../upstream/task.js";
import type { Task } from "../protocol/schemas.js";
import { VERSION } from "../version.js";
import { BodyTooLarge, NdjsonWriter, readBody, sendError, sendJson, sendRawError, splitTarget } from "./http.js";
import type { DaemonConfig, StatusLimits } from "./config.js";
import type { TaskService } from "./service.js";
import { isRefusal, validateBatch } from "./validate.js";
import type { LocalWebSocket } from "./wsapi.js";

export interface LocalServerOptions extends Pick<DaemonConfig, "maxBodyBytes" | "refusedBodyDrainMs"> {
  /** Shown under `limits` in `GET /v1/status`. */
  limits: StatusLimits;
  logger: Logger;
}

const TASK_PATH = /^\/v1\/tasks\/([^/]+)$/;
/** Status for a request Node's HTTP parser refused, by its error code; anything else is 400. */
const CLIENT_ERROR_STATUS: Record<string, number> = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 };
/** HTTP status for an admission error code. */
const ADMISSION_STATUS: Record<string, number> = { draining: 503, queueFull: 429, batchTooLarge: 413, taskTooLarge: 413 };

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
    const { path, query } = splitTarget(req.url);
    if (path === "/v1") {
      if (req.method === "POST") return postTasks(req, res);
      return methodNotAllowed(res, "POST");
    }
    if (path === "/v1/status") {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      return sendJson(res, 200, { ...service.engine.stats(), limits: opts.limits, version: VERSION });
    }
    const m = TASK_PATH.exec(path);
    if (m) {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      // A malformed %-escape cannot name a task we know: 404, not a 500 from the URIError.
      const uuid = safeDecode(m[1] as string);
      if (uuid === undefined)
        return sendError(res, 404, { code: "taskNotFound", message: "no such task (malformed taskUUID in the path)" });
      return getTask(res, uuid, query ? new URLSearchParams(query).get("wait") : null);
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
    if (!snap)
      return sendError(res, 404, { code: "taskNotFound", message: `no task ${uuid} in flight or within retention`, taskUUID: uuid });
    sendJson(res, 200, view(snap));
  }

  /** The checked tasks of a POST body, or undefined once a refusal has been answered. */
  async function readTasks(req: IncomingMessage, res: ServerResponse): Promise<Task[] | undefined> {
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // Nothing more is buffered, but the rest of the body is still read (and dropped) for a
        // moment after the answer: a socket closed with unread input is reset, and the client would
        // see ECONNRESET instead of this 413 (test/reliability/fuzz.test.ts checks it). "keep-alive"
        // stops Node from closing the socket right after the answer; once drained it is closed
        // cleanly, and the timer bounds the drain.
        sendError(res, 413, { code: err.code, message: err.message }, { connection: "keep-alive" });
        res.on("finish", () => {
          const socket = req.socket;
          if (req.complete) {
            socket.end();
            return;
          }
          const stop = setTimeout(() => socket.destroy(), opts.refusedBodyDrainMs).unref();
          socket.once("close", () => clearTimeout(stop));
          req.once("end", () => {
            clearTimeout(stop);
            socket.end();
          });
          req.resume(); // drain what readBody stopped reading
        });
        return undefined;
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      sendError(res, 400, { code: "invalidRequestBody", message: "the body is not valid JSON" });
      return undefined;
    }
    const tasks = validateBatch(parsed, (u) => service.inFlight(u));
    if (!isRefusal(tasks)) return tasks;
    sendError(res, tasks.status, tasks.error);
    return undefined;
  }

  async function postTasks(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Read and check in a function of its own, so the raw body and its parse are not held for the
    // life of the request (a heap snapshot showed both alive across the await below).
    const tasks = await readTasks(req, res);
    if (!tasks) return;
    const refused = service.admissionError(tasks);
    if (refused) {
      const status = ADMISSION_STATUS[refused.code] ?? 503;
      return sendError(res, status, refused.toRunwareError(), status === 429 || status === 503 ? { "retry-after": "1" } : {});
    }
    const client = `http:${++clientSeq}`;
    if (log.isLevelEnabled("debug")) log.debug({ client, tasks: tasks.length }, "batch accepted");

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
    // splitTarget, not new URL(): an unparseable absolute target must not throw here, in an event
    // listener, where it would take the daemon down.
    const { path } = splitTarget(req.url);
    if (path !== "/v1") return sendRawError(socket, 404, { code: "notFound", message: `no WebSocket endpoint at ${path}` });
    if (fromBrowser(req))
      return sendRawError(socket, 403, { code: "forbiddenOrigin", message: "requests from web pages (with an Origin header) are refused" });
    ws.handleUpgrade(req, socket, head);
  });

  // What Node answers by itself otherwise (a bare status line, or nothing) gets the error shape too
  // (docs/local-api.md §2.7): malformed requests, CONNECT, unmet Expect headers.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR_STATUS[err.code ?? ""] ?? 400;
    sendRawError(socket, status, { code: "invalidRequest", message: `malformed HTTP request (${err.code ?? "parse error"})` });
  });
  server.on("connect", (_req, socket) => sendRawError(socket, 405, { code: "methodNotAllowed", message: "CONNECT is not supported" }));
  server.on("checkExpectation", (_req, res) => {
    sendError(res, 417, { code: "expectationFailed", message: "only 'Expect: 100-continue' is supported" });
  });

  return server;
}

/** Node keeps the response being written on a socket here; a raw answer must not be spliced into it. */
function responseStarted(socket: Duplex): boolean {
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return current?.headersSent === true;
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
